--[[
  checkArguments: the argument checks the limiter's scripts share, put before each of them when it is registered
  (see scripts.ts). A script's caller is the gateway, but what it sends comes from client input and configuration:
  a number that is not whole (a fraction, NaN, 1e3, hex) or out of range would be stored in a counter and break
  every later call on it, so it is refused with an error reply 'BADARG <argument> …' before any key is touched.
]]

-- ARGV[index] as a number, when it is a whole number in decimal digits from `minimum` to 2^53; else BADARG.
local function wholeNumber(index, name, minimum)
  local value = ARGV[index]
  local number = type(value) == 'string' and #value <= 17 and string.match(value, '^%-?%d+$') and tonumber(value)
  if not number or number < minimum or number > 9007199254740991 then
    error({ err = 'BADARG ' .. name .. ' (ARGV[' .. index .. ']) must be a whole number from ' .. minimum .. ': ' .. tostring(value) })
  end
  return number
end

-- ARGV[index] when it is one of `allowed` (a set of strings); else BADARG.
local function oneOf(index, name, allowed)
  local value = ARGV[index]
  if not allowed[value] then
    error({ err = 'BADARG ' .. name .. ' (ARGV[' .. index .. ']) is not allowed: ' .. tostring(value) })
  end
  return value
end

-- ARGV[index] when it is a non-empty string (a request id); else BADARG.
local function requestIdAt(index)
  local value = ARGV[index]
  if type(value) ~= 'string' or value == '' then
    error({ err = 'BADARG request id (ARGV[' .. index .. ']) must not be empty' })
  end
  return value
end

-- BADARG unless there are `scopes` (a whole number, at least 1) scopes and `expected` arguments.
local function checkShape(scopes, expected)
  if scopes < 1 or scopes ~= math.floor(scopes) or #ARGV ~= expected then
    error({ err = 'BADARG the keys and arguments do not match: ' .. #KEYS .. ' keys, ' .. #ARGV .. ' arguments' })
  end
end

