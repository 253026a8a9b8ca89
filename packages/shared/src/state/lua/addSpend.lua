--[[
  addSpend: adds a finished request's cost to its API key's spend today and this month, which the admitRequest
  script compares with the key's budget. Written by the gateway that served the request, in the same round trip
  as its usage record.

  KEYS:
    [1]  the key's spend today (integer nano-USD)
    [2]  the key's spend this month
  ARGV:
    [1]  the cost, integer nano-USD
    [2]  TTL of the day counter (s), [3] TTL of the month counter (s): a little past their periods
  Returns the spend today after the addition.
]]
local today = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return today
