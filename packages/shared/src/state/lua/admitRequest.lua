--[[
  admitRequest: admits one request against the limits of its API key and of its candidate deployments, in one
  round trip. The key is checked first; then the deployments in routing order, and the first with room is taken.
  Windows are one-minute fixed windows that start with their first request; time is Redis' own clock, so
  replicas with skewed clocks still agree.

  KEYS (two per scope; the API key's scope first when ARGV[1] is '1' or '2', then the deployments in order):
    KEYS[2i-1]  window hash of scope i      { start, requests, tokens }
    KEYS[2i]    lease sorted set of scope i  request id -> lease expiry (ms)
    and when ARGV[1] == '2', last: the key's spend today and this month (integer nano-USD strings)
  ARGV:
    [1]  '1' when the first scope is the API key, '2' when it is and the key has a budget, else '0'
    [2]  request id
    [3]  estimated tokens to reserve
    [4]  window length (ms)
    [5]  lease length (ms) for concurrency slots
    [6 + 3(i-1)], [7 + 3(i-1)], [8 + 3(i-1)]  requests per minute, tokens per minute, concurrency of scope i
                                               (0 = unlimited)
    with a budget, last two: the daily and monthly budget in nano-USD (-1 = none; 0 refuses everything)
  Returns { admitted, index, limit, retryAfterMs, keyStart, keyRequests, keyTokens, keyResetMs, deploymentStart,
            spentToday, spentThisMonth }:
    admitted 1: index = 1-based position of the admitted deployment among the deployment scopes
    admitted 0: index = 0 when the key refused, -1 when every deployment refused; limit is
                'requests', 'tokens', 'concurrency', 'daily_budget' or 'monthly_budget' (retryAfterMs 0: the
                caller knows when its periods end)
    key* describe the key's window after this call (0s when there is no key scope)
    deploymentStart is the admitted deployment's window start (0 when refused)
    spent* are the key's spend before this request, in nano-USD (0s without a budget)
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local hasKey = ARGV[1] ~= '0'
local hasBudget = ARGV[1] == '2'
local requestId = ARGV[2]
local estimate = tonumber(ARGV[3])
local windowMs = tonumber(ARGV[4])
local leaseMs = tonumber(ARGV[5])
local scopeCount = #KEYS / 2
local spentToday, spentThisMonth = 0, 0
if hasBudget then
  scopeCount = scopeCount - 1
  spentToday = tonumber(redis.call('GET', KEYS[#KEYS - 1]) or '0')
  spentThisMonth = tonumber(redis.call('GET', KEYS[#KEYS]) or '0')
  local dailyBudget, monthlyBudget = tonumber(ARGV[#ARGV - 1]), tonumber(ARGV[#ARGV])
  if dailyBudget >= 0 and spentToday >= dailyBudget then
    return { 0, 0, 'daily_budget', 0, 0, 0, 0, 0, 0, spentToday, spentThisMonth }
  end
  if monthlyBudget >= 0 and spentThisMonth >= monthlyBudget then
    return { 0, 0, 'monthly_budget', 0, 0, 0, 0, 0, 0, spentToday, spentThisMonth }
  end
end

local function limitsOf(i)
  local base = 6 + 3 * (i - 1)
  return tonumber(ARGV[base]), tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
end

-- The scope's live window, or a fresh one starting now. Read once per scope and call.
local windows = {}
local function windowOf(i)
  local window = windows[i]
  if window == nil then
    local values = redis.call('HMGET', KEYS[2 * i - 1], 'start', 'requests', 'tokens')
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

-- nil when scope i has room; else the limit it hit and the milliseconds until it may have room.
local function refusal(i)
  local rpm, tpm, concurrency = limitsOf(i)
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
    local leases = KEYS[2 * i]
    redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
    if redis.call('ZCARD', leases) >= concurrency then
      -- When a slot frees is unknown: suggest a short wait.
      return 'concurrency', 1000
    end
  end
  return nil, 0
end

-- Counts the request in scope i; returns the window's start, requests and tokens afterwards.
local function take(i)
  local rpm, tpm, concurrency = limitsOf(i)
  local start, requests, tokens, fresh = windowOf(i)
  if rpm > 0 or tpm > 0 then
    local window = KEYS[2 * i - 1]
    if fresh then
      redis.call('HSET', window, 'start', start, 'requests', 1, 'tokens', estimate)
      redis.call('PEXPIREAT', window, start + windowMs)
    else
      redis.call('HINCRBY', window, 'requests', 1)
      redis.call('HINCRBY', window, 'tokens', estimate)
    end
  end
  if concurrency > 0 then
    redis.call('ZADD', KEYS[2 * i], now + leaseMs, requestId)
    redis.call('PEXPIRE', KEYS[2 * i], leaseMs)
  end
  return start, requests + 1, tokens + estimate
end

local firstDeployment = 1
local keyStart, keyRequests, keyTokens, keyReset = 0, 0, 0, 0
if hasKey then
  firstDeployment = 2
  local limit, retryAfter = refusal(1)
  if limit then
    local start, requests, tokens = windowOf(1)
    return { 0, 0, limit, retryAfter, start, requests, tokens, start + windowMs - now, 0, spentToday, spentThisMonth }
  end
end

for i = firstDeployment, scopeCount do
  if not refusal(i) then
    if hasKey then
      keyStart, keyRequests, keyTokens = take(1)
      keyReset = keyStart + windowMs - now
    end
    local deploymentStart = take(i)
    return { 1, i - firstDeployment + 1, '', 0, keyStart, keyRequests, keyTokens, keyReset, deploymentStart, spentToday, spentThisMonth }
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
