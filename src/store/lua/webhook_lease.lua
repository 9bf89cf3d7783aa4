-- Takes or renews a site's webhook delivery lease (store::webhooks).
-- KEYS[1] lease key; ARGV[1] owner id, ARGV[2] ttl in ms.
-- Returns 1 while ARGV[1] holds the lease (taken now or renewed), 0 when another owner holds it.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
