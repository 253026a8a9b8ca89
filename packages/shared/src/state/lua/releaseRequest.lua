--[[
  releaseRequest: when a request is over, frees its concurrency slots and settles its token reservation to the
  real usage. The correction only applies to the window the reservation was made in: a window that has since
  expired and restarted is left alone.

  KEYS (two per scope):
    KEYS[2i-1]  window hash of scope i
    KEYS[2i]    lease sorted set of scope i
  ARGV:
    [1]           request id
    [2]           token correction: real tokens minus the reserved estimate (may be negative)
    [1 + 2i]      start (ms) of the window scope i reserved in
    [2 + 2i]      '1' when scope i holds a concurrency slot, else '0'
  Returns the number of scopes whose window was corrected.
]]
local requestId = ARGV[1]
local correction = tonumber(ARGV[2])
local corrected = 0
for i = 1, #KEYS / 2 do
  if ARGV[2 + 2 * i] == '1' then
    redis.call('ZREM', KEYS[2 * i], requestId)
  end
  if correction ~= 0 then
    local window = KEYS[2 * i - 1]
    if redis.call('HGET', window, 'start') == ARGV[1 + 2 * i] then
      if redis.call('HINCRBY', window, 'tokens', correction) < 0 then
        redis.call('HSET', window, 'tokens', 0)
      end
      corrected = corrected + 1
    end
  end
end
return corrected
