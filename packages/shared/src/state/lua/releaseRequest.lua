--[[
  releaseRequest: when a request is over, frees its concurrency slots, settles its token reservation to the
  real usage and forgets its admission record. The correction only applies to the window the reservation was made
  in: a window that has since expired and restarted is left alone.

  KEYS:
    KEYS[1]       the request's admission record (see admitRequest)
    then two per scope:
    KEYS[2i]      window hash of scope i
    KEYS[2i+1]    lease sorted set of scope i
  ARGV:
    [1]           request id
    [2]           token correction: real tokens minus the reserved estimate (may be negative)
    [1 + 2i]      start (ms) of the window scope i reserved in
    [2 + 2i]      '1' when scope i holds a concurrency slot, else '0'
  Arguments are checked first (checkArguments.lua): anything else is refused with 'BADARG …', nothing written.
  Returns the number of scopes whose window was corrected.
]]
local requestId = requestIdAt(1)
local correction = wholeNumber(2, 'token correction', -9007199254740991)
local scopeCount = (#KEYS - 1) / 2
checkShape(scopeCount, 2 + 2 * scopeCount)
for i = 1, scopeCount do
  wholeNumber(1 + 2 * i, 'window start', 0)
  oneOf(2 + 2 * i, 'concurrency flag', { ['0'] = true, ['1'] = true })
end

local corrected = 0
for i = 1, scopeCount do
  if ARGV[2 + 2 * i] == '1' then
    redis.call('ZREM', KEYS[2 * i + 1], requestId)
  end
  if correction ~= 0 then
    local window = KEYS[2 * i]
    if redis.call('HGET', window, 'start') == ARGV[1 + 2 * i] then
      if redis.call('HINCRBY', window, 'tokens', correction) < 0 then
        redis.call('HSET', window, 'tokens', 0)
      end
      corrected = corrected + 1
    end
  end
end
redis.call('DEL', KEYS[1])
return corrected
