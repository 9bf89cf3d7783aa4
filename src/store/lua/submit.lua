-- The atomic submit step (DESIGN §4) for a batch of one site's submissions (group commit, `store/redis/batch.rs`).
-- Each comment gets, in order and on its own: the idempotency check, then record, queue entry (if held), decision
-- event, reputation counters and near-copy window, all or nothing. MULTI cannot read-then-write, so this is one
-- script. The comments of one batch are independent: a later one sees what an earlier one wrote, so the same
-- comment id twice in one batch is stored once and the second copy gets the replay of the first.
--
-- Numbers travel as strings and are passed to redis.call as such: a Lua number would be formatted with "%.17g" on
-- every call.
--
-- KEYS: 1 pending stream, 2 decision stream, then per comment: record hash, ip reputation, author reputation (may be
--       unused), then its near-copy record strings (one per band value; none when the comment has no sketch)
-- ARGV: 1 bytes of near-copy records kept per band value, then per comment WIDTH values:
--        1 number of near-copy keys, 2 body sha256, 3 answer json (without review id and cursor), 4 record json,
--        5 verdict, 6 retention ms, 7 now ms, 8 expires at ms (now + retention), 9 oldest stream id kept
--        (now - retention), 10 held "1"/"0", 11 reason codes json, 12 has author "1"/"0", 13 comment id,
--        14 thread id, 15 redacted body, 16 author key, 17 ip key, 18 when this generation's near-copy strings
--        expire (ms since the epoch), 19 near-copy record (binary, `store::near`)
-- Returns one reply per comment, in order: {"replay", answer, review_id, cursor} | {"conflict"} |
--         {"stored", review_id, cursor}
local WIDTH = 19
local cut_at = 2 * tonumber(ARGV[1])
local newest = '-' .. ARGV[1]
local replies = {}
local k = 3
local a = 2

while a + WIDTH - 1 <= #ARGV do
  local rec, ipk, ak = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local nnear = tonumber(ARGV[a])
  local near_from = k + 3
  k = near_from + nnear

  local existing = redis.call('HMGET', rec, 'sha', 'answer', 'review', 'cursor')
  if existing[1] then
    if existing[1] == ARGV[a + 1] then
      replies[#replies + 1] = {'replay', existing[2], existing[3] or '', existing[4]}
    else
      replies[#replies + 1] = {'conflict'}
    end
  else
    local verdict, retention, now, minid = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 8]
    local id, thread, redacted = ARGV[a + 12], ARGV[a + 13], ARGV[a + 14]
    -- Entries older than the retention window are trimmed as new ones arrive ('~': at node granularity, cheap).
    local review = ''
    if ARGV[a + 9] == '1' then
      local qid = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'comment_id', id, 'thread_id', thread)
      review = 'p-' .. qid
    end
    local cursor = redis.call('XADD', KEYS[2], 'MINID', '~', minid, '*',
      'c', id, 'v', verdict, 's', 'AUTOMATIC', 'm', '', 'r', ARGV[a + 10], 't', now, 'b', redacted, 'o', '0',
      'th', thread)

    -- Only what the record does not already hold: the thread is in 'rec' and the redacted body in 'answer'; an
    -- absent 'review', 'ak', 'source', 'moderator' or 'publish_original' reads as '', AUTOMATIC, '' and '0'
    -- (decide.lua and report.lua write the last three when a decision changes them).
    local fields = {'sha', ARGV[a + 1], 'answer', ARGV[a + 2], 'rec', ARGV[a + 3], 'cursor', cursor,
      'verdict', verdict, 'decided_at', now, 'expires_at', ARGV[a + 7], 'ik', ARGV[a + 16]}
    if review ~= '' then fields[#fields + 1] = 'review'; fields[#fields + 1] = review end
    if ARGV[a + 11] == '1' then fields[#fields + 1] = 'ak'; fields[#fields + 1] = ARGV[a + 15] end
    redis.call('HSET', rec, unpack(fields))
    redis.call('PEXPIRE', rec, retention)

    local reps = {ipk}
    if ARGV[a + 11] == '1' then reps[2] = ak end
    for _, key in ipairs(reps) do
      redis.call('HINCRBY', key, 'submitted', '1')
      if verdict == 'APPROVED' then redis.call('HINCRBY', key, 'approved', '1') end
      if verdict == 'REJECTED' then redis.call('HINCRBY', key, 'rejected', '1') end
      redis.call('PEXPIRE', key, retention)
    end
    -- Near-copy window (store::near): append this comment's record to each band value's string of this
    -- generation (only the record reaches the AOF); the append that creates a string sets its expiry, the end of
    -- the next generation; a string twice as long as kept is cut back to its newest records, keeping its expiry.
    local expire_at, record = ARGV[a + 17], ARGV[a + 18]
    local created = #record
    for i = near_from, k - 1 do
      local len = redis.call('APPEND', KEYS[i], record)
      if len == created then
        redis.call('PEXPIREAT', KEYS[i], expire_at)
      elseif len > cut_at then
        redis.call('SET', KEYS[i], redis.call('GETRANGE', KEYS[i], newest, '-1'), 'KEEPTTL')
      end
    end
    replies[#replies + 1] = {'stored', review, cursor}
  end
  a = a + WIDTH
end
return replies
