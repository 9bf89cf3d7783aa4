-- The atomic submit step (DESIGN §4): idempotency check, record, queue entry (if held), decision event and
-- reputation counters, all or nothing. MULTI cannot read-then-write, so this is one script.
--
-- KEYS: 1 record hash, 2 pending stream, 3 decision stream, 4 ip reputation, 5 author reputation (may be unused),
--       6.. near-copy record strings, one per band value (none when the comment has no sketch)
-- ARGV: 1 body sha256, 2 answer json (without review id and cursor), 3 record json, 4 verdict, 5 retention ms,
--       6 now ms, 7 held "1"/"0", 8 reason codes json, 9 has author "1"/"0", 10 comment id, 11 thread id,
--       12 redacted body, 13 author key, 14 ip key, 15 near-copy window ms, 16 near-copy record,
--       17 bytes of records kept per band value
-- Returns {"replay", answer, review_id, cursor} | {"conflict"} | {"stored", review_id, cursor}
local existing = redis.call('HMGET', KEYS[1], 'sha', 'answer', 'review', 'cursor')
if existing[1] then
  if existing[1] == ARGV[1] then
    return {'replay', existing[2], existing[3], existing[4]}
  end
  return {'conflict'}
end

local retention = tonumber(ARGV[5])
local now = tonumber(ARGV[6])
-- Entries older than the retention window are trimmed as new ones arrive ('~': at node granularity, cheap).
local minid = tostring(math.max(now - retention, 0))

local review = ''
if ARGV[7] == '1' then
  local qid = redis.call('XADD', KEYS[2], 'MINID', '~', minid, '*', 'comment_id', ARGV[10], 'thread_id', ARGV[11])
  review = 'p-' .. qid
end
local cursor = redis.call('XADD', KEYS[3], 'MINID', '~', minid, '*',
  'c', ARGV[10], 'v', ARGV[4], 's', 'AUTOMATIC', 'm', '', 'r', ARGV[8], 't', ARGV[6], 'b', ARGV[12], 'o', '0',
  'th', ARGV[11])

redis.call('HSET', KEYS[1],
  'sha', ARGV[1], 'answer', ARGV[2], 'rec', ARGV[3], 'review', review, 'cursor', cursor,
  'verdict', ARGV[4], 'source', 'AUTOMATIC', 'moderator', '', 'decided_at', ARGV[6], 'publish_original', '0',
  'expires_at', tostring(now + retention), 'thread', ARGV[11], 'redacted', ARGV[12], 'ak', ARGV[13], 'ik', ARGV[14])
redis.call('PEXPIRE', KEYS[1], retention)

local reps = {KEYS[4]}
if ARGV[9] == '1' then reps[2] = KEYS[5] end
for _, key in ipairs(reps) do
  redis.call('HINCRBY', key, 'submitted', 1)
  if ARGV[4] == 'APPROVED' then redis.call('HINCRBY', key, 'approved', 1) end
  if ARGV[4] == 'REJECTED' then redis.call('HINCRBY', key, 'rejected', 1) end
  redis.call('PEXPIRE', key, retention)
end
-- Near-copy window (store::near): append this comment's record to each band value's string (only the record reaches
-- the AOF), cut it back to the newest records when twice as long, expire it a window after its last write.
local keep = tonumber(ARGV[17])
for i = 6, #KEYS do
  if redis.call('APPEND', KEYS[i], ARGV[16]) > 2 * keep then
    redis.call('SET', KEYS[i], redis.call('GETRANGE', KEYS[i], -keep, -1))
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[15])
end
return {'stored', review, cursor}
