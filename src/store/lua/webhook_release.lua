-- Gives a site's webhook lease up if the caller holds it (store::webhooks). KEYS[1] lease key; ARGV[1] owner id.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
