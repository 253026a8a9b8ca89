--[[
  cancelAdmission: undoes an admission whose answer the gateway stopped waiting for (a timeout, a dropped
  connection), so that the request is counted once: in Redis when its admission answered in time, else only
  where the gateway decided instead (its local share), or nowhere when it refused the request. It leaves a
  tombstone in the admission record, so an admission that runs after its cancel counts nothing.

  KEYS:
    KEYS[1]     the request's admission record (see admitRequest)
    then two per scope, exactly as given to that admission (the API key's scope first when ARGV[3] is '1'):
    KEYS[2i]    window hash of scope i
    KEYS[2i+1]  lease sorted set of scope i
  ARGV:
    [1]  request id
    [2]  admission number
    [3]  '1' when the first scope is the API key, else '0'
    [4]  how long the tombstone is kept (ms)
  Arguments are checked first (checkArguments.lua): anything else is refused with 'BADARG …', nothing written.
  Returns 1 when an admission was undone, 0 when there was nothing to undo (it refused, counted nothing, never
  ran, or was cancelled already).
]]
local requestId = requestIdAt(1)
local admission = wholeNumber(2, 'admission number', 0)
local hasKey = oneOf(3, 'key flag', { ['0'] = true, ['1'] = true }) == '1'
local tombstoneTtlMs = wholeNumber(4, 'tombstone TTL', 1)
local scopeCount = (#KEYS - 1) / 2
checkShape(scopeCount, 4)

local record = KEYS[1]
local previous = redis.call('HGET', record, admission)
redis.call('HSET', record, admission, 'cancelled')
redis.call('PEXPIRE', record, tombstoneTtlMs)
if not previous or previous == 'cancelled' then
  return 0
end

local index, keyStart, deploymentStart, estimate = string.match(previous, '^(%d+) (%d+) (%d+) (%d+)$')
estimate = tonumber(estimate)

-- Takes the request back out of scope i: its count and tokens while its window lasts, and its lease.
local function undo(i, start)
  local window = KEYS[2 * i]
  if redis.call('HGET', window, 'start') == start then
    if redis.call('HINCRBY', window, 'requests', -1) < 0 then
      redis.call('HSET', window, 'requests', 0)
    end
    if redis.call('HINCRBY', window, 'tokens', -estimate) < 0 then
      redis.call('HSET', window, 'tokens', 0)
    end
  end
  redis.call('ZREM', KEYS[2 * i + 1], requestId)
end

local firstDeployment = 1
if hasKey then
  firstDeployment = 2
  undo(1, keyStart)
end
local deployment = firstDeployment + tonumber(index) - 1
if deployment <= scopeCount then
  undo(deployment, deploymentStart)
end
return 1
