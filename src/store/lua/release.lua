-- ReleaseClaim: gives a claimed item back before its lease expires; only the current claim token may.
-- KEYS: 1 item hash, 2 leases zset. ARGV: 1 review id, 2 token, 3 now ms.
-- Returns {"released"} | {"refused", code} (code: store::review::Refusal::code) | {"notfound"}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
local st = redis.call('HMGET', KEYS[1], 'decided', 'token', 'expires')
if st[1] == '1' then return {'refused', 'already_decided'} end
if st[2] ~= ARGV[2] or tonumber(st[3] or '0') <= tonumber(ARGV[3]) then
  return {'refused', 'stale_or_expired'}
end
redis.call('HSET', KEYS[1], 'token', '', 'expires', '0')
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return {'released'}
