-- ReportComment: a reader flags a comment. One open reported item per comment; each reporter counts once; after
-- the site's threshold a published comment is hidden pending review (a PENDING_REVIEW decision event).
-- KEYS: 1 reported stream, 2 open-reports hash, 3 decision stream
-- ARGV: 1 site key prefix, 2 comment id, 3 reason, 4 reporter key, 5 hide threshold, 6 now ms, 7 retention ms,
--       8 reason codes json of the hide event
-- Returns {"reported", review_id, count, hidden "1"/"0"} | {"notfound"}
local prefix, cid, reason, reporter = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local threshold, now, retention = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local ckey = prefix .. 'c:' .. cid
local rec = redis.call('HMGET', ckey, 'thread', 'verdict', 'redacted', 'answer', 'rec')
if not rec[2] then return {'notfound'} end
-- json and thread_and_redacted: lua/lib/record.lua, put before this script (scripts.rs).
rec[1], rec[3] = thread_and_redacted(rec[1], rec[3], rec[5], json(rec[4]))
local ttl = redis.call('PTTL', ckey)
if ttl <= 0 then ttl = retention end
local minid = tostring(math.max(now - retention, 0))

local rid = redis.call('HGET', KEYS[2], cid)
if not rid or redis.call('EXISTS', prefix .. 'rv:' .. rid) == 0 then
  local id = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'comment_id', cid, 'thread_id', rec[1] or '')
  rid = 'r-' .. id
  redis.call('HSET', KEYS[2], cid, rid)
  redis.call('HSET', prefix .. 'rv:' .. rid, 'comment_id', cid, 'deliveries', 0, 'reports', 0)
end
local rv = prefix .. 'rv:' .. rid
if redis.call('SADD', rv .. ':who', reporter) == 1 then
  redis.call('HINCRBY', rv, 'reports', 1)
  if reason ~= '' and redis.call('LLEN', rv .. ':why') < 20 then redis.call('RPUSH', rv .. ':why', reason) end
end
for _, k in ipairs({rv, rv .. ':who', rv .. ':why'}) do redis.call('PEXPIRE', k, ttl) end
redis.call('PEXPIRE', KEYS[2], retention)

local count = tonumber(redis.call('HGET', rv, 'reports'))
local hidden = '0'
if count >= threshold and rec[2] == 'APPROVED' then
  hidden = '1'
  redis.call('HSET', ckey, 'verdict', 'PENDING_REVIEW', 'source', 'AUTOMATIC', 'decided_at', ARGV[6])
  redis.call('XADD', KEYS[3], 'MINID', '~', minid, '*', 'c', cid, 'v', 'PENDING_REVIEW', 's', 'AUTOMATIC', 'm', '',
    'r', ARGV[8], 't', ARGV[6], 'b', rec[3] or '', 'o', '0', 'th', rec[1] or '')
end
return {'reported', rid, count, hidden}
