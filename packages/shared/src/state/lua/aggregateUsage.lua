--[[
  aggregateUsage: counts a batch of usage records read from the stream into their days' totals, exactly once:
  a record whose id was counted before (a duplicate entry) is skipped, and each entry is acknowledged and deleted
  in the same script as its counting, so no crash can leave an entry counted but pending, or acknowledged but
  uncounted.

  KEYS:
    [1]                           the usage stream
    [3i - 1], [3i], [3i + 1]      entry i: its record's "seen" marker, its key's totals hash for its day, and the
                                  set of the keys with usage that day
  ARGV:
    [1]  consumer group
    [2]  TTL (s) of a "seen" marker: how long a duplicate is recognised
    [3]  TTL (s) of a day's totals: the retention
    then per entry: the stream entry id, its key id, the number n of counters, then n pairs (counter name, integer
    amount)
  Returns the number of entries counted (the others were duplicates).
]]
local group = ARGV[1]
local seenTtl = ARGV[2]
local dayTtl = ARGV[3]
local counted = 0
local at = 4
-- Keys already given their TTL (and key ids already added to a day's set) by this batch: once each is enough.
local touched = {}
for i = 1, (#KEYS - 1) / 3 do
  local seen, day, dayKeys = KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1]
  local entry = ARGV[at]
  local keyId = ARGV[at + 1]
  local counters = tonumber(ARGV[at + 2])
  at = at + 3
  if redis.call('SET', seen, '1', 'NX', 'EX', seenTtl) then
    for c = 0, counters - 1 do
      redis.call('HINCRBY', day, ARGV[at + 2 * c], ARGV[at + 2 * c + 1])
    end
    if not touched[day] then
      touched[day] = true
      redis.call('EXPIRE', day, dayTtl)
      redis.call('SADD', dayKeys, keyId)
      if not touched[dayKeys] then
        touched[dayKeys] = true
        redis.call('EXPIRE', dayKeys, dayTtl)
      end
    end
    counted = counted + 1
  end
  at = at + 2 * counters
  redis.call('XACK', KEYS[1], group, entry)
  redis.call('XDEL', KEYS[1], entry)
end
return counted
