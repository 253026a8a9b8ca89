--[[
  closeCircuitAfterProbe: a successful health probe closes a deployment's open circuit, in one step so that nothing
  can change the circuit between the check and the close. It is left open when a backend's 429 opened it (it stays
  open for the Retry-After the backend asked for), or when it opened after the probe started (the probe's success
  predates the failures that opened it).

  KEYS:
    KEYS[1]  the open-circuit key (JSON of the opening event, with cause and openedAt)
    KEYS[2]  the half-open trial key
  ARGV:
    [1]      when the probe started (ms since the epoch)
    [2]      the breakers channel
    [3]      the closing event to announce (JSON)
  Returns 1 when it closed the circuit, 0 when there was none or it stays open.
]]
local opened = redis.call('GET', KEYS[1])
if not opened then
  return 0
end
local decoded, event = pcall(cjson.decode, opened)
if decoded and type(event) == 'table' then
  if event.cause == 'rate_limit' then
    return 0
  end
  if type(event.openedAt) == 'number' and event.openedAt > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
