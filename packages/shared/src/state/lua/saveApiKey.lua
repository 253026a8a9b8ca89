--[[
  saveApiKey: writes a client API key's record and the entries mapping its secrets' SHA-256 to its id, in one step,
  unless the record changed since the caller read it: an optimistic compare-and-set on the whole record, so that an
  update, a rotation and a revocation running at once (on one replica or several) never undo each other and never
  leave two current secrets. Then announces the key's id, so replicas that cache keys drop it.

  KEYS:
    KEYS[1]   the key's record (JSON string)
    KEYS[2]   the set of every key id
    KEYS[3..] secret-hash entries to change
  ARGV:
    [1]       the record as the caller read it, or '' when it must not exist yet (a new key)
    [2]       the new record
    [3]       the key id
    [4]       the channel to announce the change on
    [5..]     one per secret-hash entry, in KEYS order: 'keep' sets it to the id with no expiry (a current secret),
              'drop' deletes it, a number of milliseconds sets it to the id expiring then (a previous secret's grace)
  Returns 1, or 0 when the record moved (the caller reads again and retries).
]]
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
for i = 3, #KEYS do
  local action = ARGV[i + 2]
  if action == 'drop' then
    redis.call('DEL', KEYS[i])
  elseif action == 'keep' then
    redis.call('SET', KEYS[i], ARGV[3])
  else
    redis.call('SET', KEYS[i], ARGV[3], 'PX', tonumber(action))
  end
end
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
