--[[
  readStats: sums the rolling-stats buckets of one deployment, so a reader gets a window in one reply.

  KEYS: the bucket hashes of one deployment (they share its hash tag)
  ARGV: the field names to sum, in order
  Returns one integer sum per field.
]]
local sums = {}
for f = 1, #ARGV do
  sums[f] = 0
end
for k = 1, #KEYS do
  local values = redis.call('HMGET', KEYS[k], unpack(ARGV))
  for f = 1, #ARGV do
    sums[f] = sums[f] + (tonumber(values[f]) or 0)
  end
end
return sums
