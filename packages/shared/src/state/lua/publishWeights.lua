--[[
  publishWeights: writes the prober's next health records and weights document, unless another prober wrote since
  this one read (an optimistic compare-and-set on a revision counter). Several probers may finish probes at the
  same moment; each recomputes from what it read, so a write based on an old read must be refused, not merged.

  KEYS:
    KEYS[1]  hash deployment id → health record (JSON)
    KEYS[2]  the weights document (JSON string)
    KEYS[3]  the revision counter (integer string; absent = 0)
  ARGV:
    [1]      the revision the caller read
    [2]      the next document
    [3]      the channel to announce it on, or '' to write it without an announcement (nothing routing reads changed)
    [4]      n: how many health records follow
    [5 .. 4 + 2n]   field, value pairs to set
    [5 + 2n ..]     fields to delete (deployments no longer configured)
  Returns the new revision, or -1 when the revision moved (the caller reads again and retries).
]]
local current = tonumber(redis.call('GET', KEYS[3]) or '0')
if current ~= tonumber(ARGV[1]) then
  return -1
end
local count = tonumber(ARGV[4])
for i = 0, count - 1 do
  redis.call('HSET', KEYS[1], ARGV[5 + 2 * i], ARGV[6 + 2 * i])
end
for i = 5 + 2 * count, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
redis.call('SET', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], ARGV[2])
end
return redis.call('INCR', KEYS[3])
