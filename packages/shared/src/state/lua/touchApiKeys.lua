--[[
  touchApiKeys: records when client API keys were last used, one replica's batch at a time. A time never moves back
  (replicas flush in any order), and nothing is written for a key that does not exist.

  KEYS:
    KEYS[1]      hash key id → last use (ms)
    KEYS[1 + i]  the record of the i-th key
  ARGV:
    [2i - 1]     the i-th key's id
    [2i]         its last use (ms)
  Returns how many times were written.
]]
local written = 0
for i = 1, #KEYS - 1 do
  local id = ARGV[2 * i - 1]
  local usedAt = tonumber(ARGV[2 * i])
  if redis.call('EXISTS', KEYS[1 + i]) == 1 and usedAt > tonumber(redis.call('HGET', KEYS[1], id) or '0') then
    redis.call('HSET', KEYS[1], id, ARGV[2 * i])
    written = written + 1
  end
end
return written
