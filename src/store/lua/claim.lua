-- ClaimNext: hands up to #tokens undecided items of one queue to a moderator, each with its own lease.
--
-- Items live in the queue stream (consumer group "moderators"). Never-delivered items come from XREADGROUP '>';
-- items whose lease expired or was released sit in the leases sorted set with a score at or below now and are
-- taken over with XCLAIM. A per-item lease cannot be expressed with one XAUTOCLAIM min-idle, hence the sorted set.
-- Items skipped by a thread filter go to the sorted set with score 0: free for the next claimer, not delivered.
--
-- KEYS: 1 queue stream, 2 leases zset
-- ARGV: 1 site key prefix, 2 now ms, 3 lease ms, 4 moderator, 5 thread filter ("" = any), 6 queue prefix ("p"/"r"),
--       7 item ttl ms, 8.. one fresh claim token per item wanted
-- Returns {review_id1, comment_id1, review_id2, comment_id2, ...}
local stream, leases = KEYS[1], KEYS[2]
local prefix, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local moderator, thread, qprefix, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local want = #ARGV - 7
local out = {}
if want <= 0 then return out end

-- BUSYGROUP when it exists already: that is fine.
pcall(redis.call, 'XGROUP', 'CREATE', stream, 'moderators', '0', 'MKSTREAM')

local function fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end

local function hand(id, comment_id)
  local rid = qprefix .. '-' .. id
  local rv = prefix .. 'rv:' .. rid
  local token = ARGV[8 + #out / 2]
  redis.call('HSET', rv, 'token', token, 'moderator', moderator, 'expires', now + lease, 'comment_id', comment_id)
  redis.call('HINCRBY', rv, 'deliveries', 1)
  redis.call('PEXPIRE', rv, ttl)
  redis.call('ZADD', leases, now + lease, rid)
  out[#out + 1] = rid
  out[#out + 1] = comment_id
end

-- 1. Items whose lease expired or was released.
local free = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 500)
for _, rid in ipairs(free) do
  if #out / 2 >= want then break end
  local id = string.sub(rid, #qprefix + 2)
  local entry = redis.call('XRANGE', stream, id, id)
  if #entry == 0 then
    redis.call('ZREM', leases, rid) -- decided or trimmed
  else
    local f = fields(entry[1][2])
    if thread == '' or f['thread_id'] == thread then
      redis.call('XCLAIM', stream, 'moderators', moderator, 0, id, 'JUSTID')
      hand(id, f['comment_id'])
    end
  end
end

-- 2. Never-delivered items, oldest first, in bounded batches.
for _ = 1, 20 do
  if #out / 2 >= want then break end
  local read = redis.call('XREADGROUP', 'GROUP', 'moderators', moderator, 'COUNT', 100, 'STREAMS', stream, '>')
  if not read or #read == 0 or #read[1][2] == 0 then break end
  for _, entry in ipairs(read[1][2]) do
    local f = fields(entry[2])
    if #out / 2 < want and (thread == '' or f['thread_id'] == thread) then
      hand(entry[1], f['comment_id'])
    else
      redis.call('ZADD', leases, 0, qprefix .. '-' .. entry[1])
    end
  end
end
return out
