--[[
  appendFlight: appends events of an in-flight de-duplication leader's answer to its flight's stream, in order, in
  one round trip (events written in one turn of the leader's event loop travel together), and on the last one
  releases the flight's lock if the leader still holds it.

  KEYS:
    [1]  the flight's stream      [2]  the flight's lock (string: the leader's token)
  ARGV:
    [1]  the leader's token       [2]  the stream's TTL (ms) after this call
    [3]  '1' to release the lock (the answer ended or failed), else '0'
    [4], [5], …  the events, two values each: kind (head, data, end, fail), data
  Returns the number of entries appended.
]]
local appended = 0
for i = 4, #ARGV - 1, 2 do
  redis.call('XADD', KEYS[1], '*', 'k', ARGV[i], 'd', ARGV[i + 1])
  appended = appended + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return appended
