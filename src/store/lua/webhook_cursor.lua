-- Saves a site's delivered webhook cursor, only while the caller holds the delivery lease (store::webhooks), so a
-- deliverer that lost its lease can never move the cursor of the one that took over.
-- KEYS[1] lease key, KEYS[2] cursor key; ARGV[1] owner id, ARGV[2] cursor.
-- Returns 1 when saved, 0 when the lease is not the caller's (nothing written).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
