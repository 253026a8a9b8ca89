--[[
  flushCacheModel: deletes every cached answer of one model.

  KEYS:
    [1]  the model's set of entry hashes
    [2]  the index (hash: entry hash -> '<bytes>\t<model>')
    [3]  the access order      [4]  the expiries      [5]  the byte count
  ARGV:
    [1]  the prefix of entry keys
  Returns how many answers were deleted (expired ones still indexed included).
]]
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do
  local meta = redis.call('HGET', KEYS[2], member)
  if meta then
    redis.call('DECRBY', KEYS[5], string.match(meta, '^(%d+)\t'))
    redis.call('HDEL', KEYS[2], member)
  end
  redis.call('DEL', ARGV[1] .. member)
  redis.call('ZREM', KEYS[3], member)
  redis.call('ZREM', KEYS[4], member)
end
redis.call('DEL', KEYS[1])
return #members
