--[[
  holdFlightLock: renews or releases the lock of an in-flight de-duplication leader, only if it still holds it (a
  leader that stalled past its TTL must not extend or delete the lock another request took since).

  KEYS:
    [1]  the flight's lock (string: the leader's token)
  ARGV:
    [1]  the leader's token   [2]  the new TTL (ms), or 0 to release
  Returns 1 when the token held the lock (renewed or released), 0 otherwise.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
