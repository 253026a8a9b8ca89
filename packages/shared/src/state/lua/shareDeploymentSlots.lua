--[[
  shareDeploymentSlots: one deployment's concurrency slots (`maxConcurrent`) across every gateway replica. Each
  replica's count is a field of one hash, so a replica that dies frees its slots when its heartbeat goes stale
  (the live-replicas set the cluster poll writes), as its in-flight counts do. 'take' and 'pass' read the live
  replicas and the hash (O(replicas)); 'give' and 'set' touch this replica's fields only.

  KEYS:
    KEYS[1]  the deployment's slots hash: 'h:<replica>' → slots held, 'w:<replica>' → requests waiting there
    KEYS[2]  live replicas (sorted set replica → last heartbeat, ms)
  ARGV:
    [1]  replica id (not empty)
    [2]  the deployment's limit (whole number ≥ 1)
    [3]  now (ms)
    [4]  a replica whose heartbeat is older than this (ms) is dead: its fields are deleted
    [5]  operation: 'take' (one slot if there is room), 'give' (one back), 'pass' (one back and, room
         permitting, one again for a waiter of the same replica), 'set' (this replica's true count, ARGV[7])
    [6]  requests waiting for a slot on this replica
    [7]  'set': the slots this replica holds; ignored otherwise
  Room: fewer than the limit held cluster-wide, and, while other replicas have waiters, this replica holding less
  than its share (the limit over the replicas with waiters), so that no replica keeps every slot to itself.
  Arguments are checked first (checkArguments.lua): anything else is refused with 'BADARG …', nothing written.
  Returns { 1 when a slot was taken else 0, slots held cluster-wide after the call ('give', 'set': this replica's) }.
]]
local replica = requestIdAt(1)
local limit = wholeNumber(2, 'limit', 1)
local now = wholeNumber(3, 'now', 0)
local staleAfter = wholeNumber(4, 'stale after', 1)
local operation = oneOf(5, 'operation', { take = true, give = true, pass = true, set = true })
local waiting = wholeNumber(6, 'waiting', 0)
local count = wholeNumber(7, 'held', 0)

local slots, live = KEYS[1], KEYS[2]
local mineField, waitingField = 'h:' .. replica, 'w:' .. replica
local mine = tonumber(redis.call('HGET', slots, mineField)) or 0
if operation == 'set' then
  mine = count
elseif operation ~= 'take' then
  mine = math.max(0, mine - 1)
end
local taken, others = 0, 0
if operation == 'take' or operation == 'pass' then
  -- The other live replicas' slots and waiters; a dead replica's fields are deleted on the way.
  local alive = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', live, now - staleAfter, '+inf')) do alive[id] = true end
  local othersWaiting = 0
  local fields = redis.call('HGETALL', slots)
  for i = 1, #fields, 2 do
    local field = fields[i]
    local owner = string.sub(field, 3)
    if owner ~= replica then
      if not alive[owner] then
        redis.call('HDEL', slots, field)
      elseif string.byte(field, 1) == 104 then -- 'h'
        others = others + tonumber(fields[i + 1])
      elseif fields[i + 1] ~= '0' then
        othersWaiting = othersWaiting + 1
      end
    end
  end
  if others + mine < limit and (othersWaiting == 0 or mine < math.ceil(limit / (othersWaiting + 1))) then
    mine = mine + 1
    taken = 1
  end
end
redis.call('HSET', slots, mineField, mine, waitingField, waiting)
redis.call('PEXPIRE', slots, math.max(60000, staleAfter * 10))
return { taken, others + mine }
