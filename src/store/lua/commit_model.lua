-- Installs a new learned delta and acknowledges the feedback it learned, in one step (store::learning): refused
-- when the version moved since the learner read the delta, or when an entry is no longer this learner's.
--
-- KEYS: 1 delta (string), 2 meta (hash: version), 3 feedback stream, 4 snapshot list (zset by version)
-- ARGV: 1 base version, 2 delta bytes, 3 group, 4 consumer, 5 now ms, 6 snapshot every ms, 7 snapshots kept,
--       8 "ham|spam" learned, 9 site prefix, 10.. feedback ids
-- Returns {"ok", version} | {"conflict"} | {"stale"}
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return {'conflict'} end
for i = 10, #ARGV do
  local p = redis.call('XPENDING', KEYS[3], ARGV[3], ARGV[i], ARGV[i], 1)
  if #p == 0 or p[1][2] ~= ARGV[4] then return {'stale'} end
end
for i = 10, #ARGV do redis.call('XACK', KEYS[3], ARGV[3], ARGV[i]) end
version = version + 1
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'version', version)
local now = tonumber(ARGV[5])
-- The newest snapshot's time is the second field of its member (version|at|ham|spam|kind).
local newest = redis.call('ZRANGE', KEYS[4], -1, -1)
local last = newest[1] and tonumber(string.match(newest[1], '^[^|]*|([^|]*)|'))
if not last or now - last >= tonumber(ARGV[6]) then
  redis.call('SET', ARGV[9] .. 'model:snap:' .. version, ARGV[2])
  redis.call('ZADD', KEYS[4], version, version .. '|' .. ARGV[5] .. '|' .. ARGV[8] .. '|learned')
  while redis.call('ZCARD', KEYS[4]) > math.max(tonumber(ARGV[7]), 1) do
    local oldest = redis.call('ZPOPMIN', KEYS[4])
    redis.call('DEL', ARGV[9] .. 'model:snap:' .. oldest[2])
  end
end
return {'ok', version}
