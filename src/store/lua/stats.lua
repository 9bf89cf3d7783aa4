-- GetQueueStats. KEYS: 1 pending stream, 2 reported stream, 3 pending leases, 4 reported leases, 5 audit stream.
-- ARGV: 1 now ms. Returns {pending, reported, claimed, oldest unclaimed pending entry id or "", decided last hour}.
local now = tonumber(ARGV[1])
local claimed_p = redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf')
local claimed_r = redis.call('ZCOUNT', KEYS[4], '(' .. now, '+inf')
local pending = redis.call('XLEN', KEYS[1]) - claimed_p
local reported = redis.call('XLEN', KEYS[2]) - claimed_r
local oldest = ''
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1000)) do
  local score = redis.call('ZSCORE', KEYS[3], 'p-' .. entry[1])
  if not score or tonumber(score) <= now then
    oldest = entry[1]
    break
  end
end
local decided = #redis.call('XRANGE', KEYS[5], tostring(math.max(now - 3600000, 0)), '+', 'COUNT', 1000000)
return {math.max(pending, 0), math.max(reported, 0), claimed_p + claimed_r, oldest, decided}
