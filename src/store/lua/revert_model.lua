-- Installs snapshot ARGV[1]'s delta (0: the empty delta) as a new version, itself kept as a snapshot
-- (store::learning).
--
-- KEYS: 1 delta (string), 2 meta (hash), 3 snapshot list (zset by version)
-- ARGV: 1 version to revert to, 2 now ms, 3 snapshots kept, 4 site prefix
-- Returns {"ok", version} | {"unknown"}
local target = tonumber(ARGV[1])
local bytes, docs = '', '0|0'
if target ~= 0 then
  local info = redis.call('ZRANGE', KEYS[3], target, target, 'BYSCORE')
  if #info == 0 then return {'unknown'} end
  bytes = redis.call('GET', ARGV[4] .. 'model:snap:' .. target)
  if not bytes then return {'unknown'} end
  -- version|at|ham|spam|kind: keep ham|spam
  local _, _, ham, spam = string.find(info[1], '^[^|]*|[^|]*|([^|]*)|([^|]*)|')
  docs = ham .. '|' .. spam
end
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0') + 1
redis.call('SET', KEYS[1], bytes)
redis.call('HSET', KEYS[2], 'version', version)
redis.call('SET', ARGV[4] .. 'model:snap:' .. version, bytes)
redis.call('ZADD', KEYS[3], version, version .. '|' .. ARGV[2] .. '|' .. docs .. '|revert:' .. target)
while redis.call('ZCARD', KEYS[3]) > math.max(tonumber(ARGV[3]), 1) do
  local oldest = redis.call('ZPOPMIN', KEYS[3])
  redis.call('DEL', ARGV[4] .. 'model:snap:' .. oldest[2])
end
return {'ok', version}
