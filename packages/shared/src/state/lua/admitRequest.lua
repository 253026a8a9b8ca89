--[[
  admitRequest: admits one request against the limits of its API key and of its candidate deployments, in one
  round trip. The key is checked first; then the deployments in routing order, and the first with room is taken.
  Windows are one-minute fixed windows that start with their first request; time is Redis' own clock, so
  replicas with skewed clocks still agree.

  Idempotent: an admission that counted anything is recorded under the request's id and admission number, so the
  same admission run again (a resend, a retry after a timeout) returns its first decision and counts nothing more,
  and one cancelled by cancelAdmission (its caller stopped waiting) counts nothing at all.

  KEYS:
    KEYS[1]     the request's admission record (hash: admission number -> 'index keyStart deploymentStart estimate',
                or 'cancelled')
    then two per scope (the API key's scope first when ARGV[1] is '1' or '2', then the deployments in order):
    KEYS[2i]    window hash of scope i      { start, requests, tokens }
    KEYS[2i+1]  lease sorted set of scope i  request id -> lease expiry (ms)
    and when ARGV[1] == '2', last: the key's spend today and this month (integer nano-USD strings)
  ARGV:
    [1]  '1' when the first scope is the API key, '2' when it is and the key has a budget, else '0'
    [2]  request id (the gateway's own, also the member of the lease sets)
    [3]  admission number: 0 for the request's first admission, counting up for each failover admission
    [4]  estimated tokens to reserve
    [5]  window length (ms)
    [6]  lease length (ms) for concurrency slots
    [7]  how long the admission record is kept (ms)
    [8 + 3(i-1)], [9 + 3(i-1)], [10 + 3(i-1)]  requests per minute, tokens per minute, concurrency of scope i
                                                (0 = unlimited)
    with a budget, last two: the daily and monthly budget in nano-USD (-1 = none; 0 refuses everything)
  Arguments are checked first (checkArguments.lua): anything else is refused with 'BADARG …', nothing written.
  Returns { admitted, index, limit, retryAfterMs, keyStart, keyRequests, keyTokens, keyResetMs, deploymentStart,
            spentToday, spentThisMonth }:
    admitted 1: index = 1-based position of the admitted deployment among the deployment scopes
    admitted 0: index = 0 when the key refused, -1 when every deployment refused, -2 when this admission was
                cancelled; limit is 'requests', 'tokens', 'concurrency', 'daily_budget', 'monthly_budget' or
                'cancelled' (retryAfterMs 0: the caller knows when its periods end)
    key* describe the key's window after this call (0s when there is no key scope)
    deploymentStart is the admitted deployment's window start (0 when refused)
    spent* are the key's spend before this request, in nano-USD (0s without a budget)
]]
local mode = oneOf(1, 'mode', { ['0'] = true, ['1'] = true, ['2'] = true })
local hasKey = mode ~= '0'
local hasBudget = mode == '2'
local requestId = requestIdAt(2)
local admission = wholeNumber(3, 'admission number', 0)
local estimate = wholeNumber(4, 'estimated tokens', 0)
local windowMs = wholeNumber(5, 'window length', 1)
local leaseMs = wholeNumber(6, 'lease length', 1)
local recordTtlMs = wholeNumber(7, 'record TTL', 1)
local scopeCount = (#KEYS - 1) / 2
if hasBudget then
  scopeCount = scopeCount - 1
end
checkShape(scopeCount, 7 + 3 * scopeCount + (hasBudget and 2 or 0))
local limits = {}
for i = 1, scopeCount do
  local base = 8 + 3 * (i - 1)
  limits[i] = { wholeNumber(base, 'requests per minute', 0), wholeNumber(base + 1, 'tokens per minute', 0), wholeNumber(base + 2, 'concurrency', 0) }
end
local dailyBudget, monthlyBudget
if hasBudget then
  dailyBudget, monthlyBudget = wholeNumber(#ARGV - 1, 'daily budget', -1), wholeNumber(#ARGV, 'monthly budget', -1)
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local record = KEYS[1]
local spentToday, spentThisMonth = 0, 0
if hasBudget then
  spentToday = tonumber(redis.call('GET', KEYS[#KEYS - 1]) or '0')
  spentThisMonth = tonumber(redis.call('GET', KEYS[#KEYS]) or '0')
end

-- The scope's live window, or a fresh one starting now. Read once per scope and call.
local windows = {}
local function windowOf(i)
  local window = windows[i]
  if window == nil then
    local values = redis.call('HMGET', KEYS[2 * i], 'start', 'requests', 'tokens')
    local start = tonumber(values[1])
    if start == nil or now >= start + windowMs then
      window = { now, 0, 0, true }
    else
      window = { start, tonumber(values[2]) or 0, tonumber(values[3]) or 0, false }
    end
    windows[i] = window
  end
  return window[1], window[2], window[3], window[4]
end

local firstDeployment = hasKey and 2 or 1

-- This admission ran before: answer as it did then, without counting again.
local previous = redis.call('HGET', record, admission)
if previous == 'cancelled' then
  return { 0, -2, 'cancelled', 0, 0, 0, 0, 0, 0, spentToday, spentThisMonth }
end
if previous then
  local index, keyStart, deploymentStart = string.match(previous, '^(%d+) (%d+) (%d+)')
  local keyRequests, keyTokens, keyReset = 0, 0, 0
  keyStart = tonumber(keyStart)
  if hasKey then
    local start, requests, tokens = windowOf(1)
    if start == keyStart then
      keyRequests, keyTokens = requests, tokens
    end
    keyReset = math.max(0, keyStart + windowMs - now)
  end
  return { 1, tonumber(index), '', 0, keyStart, keyRequests, keyTokens, keyReset, tonumber(deploymentStart), spentToday, spentThisMonth }
end

if hasBudget then
  if dailyBudget >= 0 and spentToday >= dailyBudget then
    return { 0, 0, 'daily_budget', 0, 0, 0, 0, 0, 0, spentToday, spentThisMonth }
  end
  if monthlyBudget >= 0 and spentThisMonth >= monthlyBudget then
    return { 0, 0, 'monthly_budget', 0, 0, 0, 0, 0, 0, spentToday, spentThisMonth }
  end
end

-- nil when scope i has room; else the limit it hit and the milliseconds until it may have room.
local function refusal(i)
  local rpm, tpm, concurrency = limits[i][1], limits[i][2], limits[i][3]
  if rpm == 0 and tpm == 0 and concurrency == 0 then
    return nil, 0
  end
  local start, requests, tokens = windowOf(i)
  if rpm > 0 and requests + 1 > rpm then
    return 'requests', start + windowMs - now
  end
  if tpm > 0 and tokens + estimate > tpm then
    return 'tokens', start + windowMs - now
  end
  if concurrency > 0 then
    local leases = KEYS[2 * i + 1]
    redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
    if redis.call('ZCARD', leases) >= concurrency then
      -- When a slot frees is unknown: suggest a short wait.
      return 'concurrency', 1000
    end
  end
  return nil, 0
end

-- Counts the request in scope i; returns the window's start, requests and tokens afterwards, and whether it
-- wrote anything (a scope without limits is not counted).
local function take(i)
  local rpm, tpm, concurrency = limits[i][1], limits[i][2], limits[i][3]
  local start, requests, tokens, fresh = windowOf(i)
  if rpm > 0 or tpm > 0 then
    local window = KEYS[2 * i]
    if fresh then
      redis.call('HSET', window, 'start', start, 'requests', 1, 'tokens', estimate)
      redis.call('PEXPIREAT', window, start + windowMs)
    else
      redis.call('HINCRBY', window, 'requests', 1)
      redis.call('HINCRBY', window, 'tokens', estimate)
    end
  end
  if concurrency > 0 then
    redis.call('ZADD', KEYS[2 * i + 1], now + leaseMs, requestId)
    redis.call('PEXPIRE', KEYS[2 * i + 1], leaseMs)
  end
  return start, requests + 1, tokens + estimate, rpm > 0 or tpm > 0 or concurrency > 0
end

local keyStart, keyRequests, keyTokens, keyReset = 0, 0, 0, 0
if hasKey then
  local limit, retryAfter = refusal(1)
  if limit then
    local start, requests, tokens = windowOf(1)
    return { 0, 0, limit, retryAfter, start, requests, tokens, start + windowMs - now, 0, spentToday, spentThisMonth }
  end
end

for i = firstDeployment, scopeCount do
  if not refusal(i) then
    local keyCounted = false
    if hasKey then
      keyStart, keyRequests, keyTokens, keyCounted = take(1)
      keyReset = keyStart + windowMs - now
    end
    local deploymentStart, _, _, deploymentCounted = take(i)
    local index = i - firstDeployment + 1
    if keyCounted or deploymentCounted then
      redis.call('HSET', record, admission, string.format('%d %d %d %d', index, keyStart, deploymentStart, estimate))
      redis.call('PEXPIRE', record, recordTtlMs)
    end
    return { 1, index, '', 0, keyStart, keyRequests, keyTokens, keyReset, deploymentStart, spentToday, spentThisMonth }
  end
end

-- Every deployment refused: report the soonest one to have room.
local soonestLimit, soonest = 'requests', windowMs
for i = firstDeployment, scopeCount do
  local limit, retryAfter = refusal(i)
  if retryAfter < soonest then
    soonestLimit, soonest = limit, retryAfter
  end
end
if hasKey then
  keyStart, keyRequests, keyTokens = windowOf(1)
  keyReset = keyStart + windowMs - now
end
return { 0, -1, soonestLimit, soonest, keyStart, keyRequests, keyTokens, keyReset, 0, spentToday, spentThisMonth }
