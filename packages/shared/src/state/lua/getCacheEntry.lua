--[[
  getCacheEntry: one answer of the response cache, marked as used now (the eviction order).

  KEYS:
    [1]  the entry (string)
    [2]  the access order (sorted set: entry hash -> last access, ms)
  ARGV:
    [1]  the entry's hash   [2]  now (ms)
  Returns the answer's JSON, or nil.
]]
local value = redis.call('GET', KEYS[1])
if value then redis.call('ZADD', KEYS[2], 'XX', tonumber(ARGV[2]), ARGV[1]) end
return value
