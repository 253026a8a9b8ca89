--[[
  putCacheEntry: stores one answer of the response cache and keeps the cache within its byte budget, evicting the
  least recently used answers. Entries whose TTL ran out are swept from the index first (at most 100 per call).

  KEYS:
    [1]  the entry (string, the answer's JSON)
    [2]  the index (hash: entry hash -> '<bytes>\t<model>')
    [3]  the access order (sorted set: entry hash -> last access, ms)
    [4]  the expiries (sorted set: entry hash -> expiry, ms)
    [5]  the byte count (integer)
  ARGV:
    [1]  the entry's hash           [2]  the answer (JSON)        [3]  TTL (ms)
    [4]  now (ms)                   [5]  the byte budget          [6]  the answer's model
    [7]  the prefix of entry keys   [8]  the prefix of model sets (the model's set is prefix .. model)
  Returns { stored (1, or 0 when the answer alone is over the budget), evicted entries, bytes after }.
]]
local hash, value, ttl, now, budget, model = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local entryPrefix, modelPrefix = ARGV[7], ARGV[8]

local function remove(member)
  local meta = redis.call('HGET', KEYS[2], member)
  if meta then
    local size, owner = string.match(meta, '^(%d+)\t(.*)$')
    redis.call('DECRBY', KEYS[5], size)
    redis.call('SREM', modelPrefix .. owner, member)
    redis.call('HDEL', KEYS[2], member)
  end
  redis.call('DEL', entryPrefix .. member)
  redis.call('ZREM', KEYS[3], member)
  redis.call('ZREM', KEYS[4], member)
end

for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 100)) do
  remove(member)
end
remove(hash)
local size = string.len(value)
if size > budget then
  return { 0, 0, tonumber(redis.call('GET', KEYS[5]) or '0') }
end
redis.call('SET', KEYS[1], value, 'PX', ttl)
redis.call('HSET', KEYS[2], hash, size .. '\t' .. model)
redis.call('ZADD', KEYS[3], now, hash)
redis.call('ZADD', KEYS[4], now + ttl, hash)
redis.call('SADD', modelPrefix .. model, hash)
local bytes = redis.call('INCRBY', KEYS[5], size)
local evicted = 0
while bytes > budget do
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if not oldest then break end
  remove(oldest)
  evicted = evicted + 1
  bytes = tonumber(redis.call('GET', KEYS[5]) or '0')
end
return { 1, evicted, bytes }
