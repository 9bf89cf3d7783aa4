-- Decide: one atomic step (DESIGN §4–5). Checks the claim token and lease, sets the verdict, removes the item from
-- its queue (XACK + XDEL), appends the decision event, the audit entry and the feedback entry, and updates the
-- author's and address's reputation. Only the claimer decides: the token must be the current lease's and the
-- moderator the one who claimed it. The decision is remembered with its token, moderator and action: the same
-- moderator's same decide again returns the same answer (a lost reply can be retried); anything else — another
-- moderator presenting the token included — is refused and changes nothing.
--
-- KEYS: 1 item hash, 2 queue stream, 3 leases zset, 4 decision stream, 5 audit stream, 6 feedback stream,
--       7 open-reports hash
-- ARGV: 1 site key prefix, 2 review id, 3 entry id, 4 token, 5 moderator, 6 action, 7 verdict, 8 now ms, 9 note,
--       10 reason codes json, 11 publish original "1"/"0", 12 spam "1"/"0", 13 retention ms, 14 reported "1"/"0",
--       15 feedback label ('abuse': the item's highest-scoring abuse category, read from the stored answer here)
-- Returns {"decided", comment_id, verdict, cursor} | {"refused", code} (code: store::review::Refusal::code) | {"notfound"}
local rv = KEYS[1]
local prefix, rid, id, token, moderator = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local action, verdict, now = ARGV[6], ARGV[7], tonumber(ARGV[8])
if redis.call('EXISTS', rv) == 0 then return {'notfound'} end
local st = redis.call('HMGET', rv, 'decided', 'd_token', 'd_action', 'd_comment', 'd_verdict', 'd_cursor', 'token',
  'expires', 'comment_id', 'd_moderator', 'moderator')
if st[1] == '1' then
  -- Items decided before d_moderator was kept: the claimer ('moderator') is who decided them.
  local decider = st[10] or st[11]
  if st[2] == token and st[3] == action and decider == moderator then return {'decided', st[4], st[5], st[6]} end
  return {'refused', 'already_decided'}
end
if not st[7] or st[7] == '' then return {'refused', 'not_claimed'} end
if st[7] ~= token then return {'refused', 'stale_token'} end
if st[11] ~= moderator then return {'refused', 'not_yours'} end
if tonumber(st[8] or '0') <= now then return {'refused', 'lease_expired'} end

local cid = st[9]
local ckey = prefix .. 'c:' .. cid
local rec = redis.call('HMGET', ckey, 'thread', 'redacted', 'ak', 'ik', 'answer', 'rec')
if not rec[5] then return {'notfound'} end
-- json and thread_and_redacted: lua/lib/record.lua, put before this script (scripts.rs).
local answer = json(rec[5])
rec[1], rec[2] = thread_and_redacted(rec[1], rec[2], rec[6], answer)
local retention = tonumber(ARGV[13])
local minid = tostring(math.max(now - retention, 0))
local publish = '0'
if verdict == 'APPROVED' then publish = ARGV[11] end

redis.call('HSET', ckey, 'verdict', verdict, 'source', 'MODERATOR', 'moderator', moderator, 'decided_at', ARGV[8],
  'publish_original', publish)
redis.call('XACK', KEYS[2], 'moderators', id)
redis.call('XDEL', KEYS[2], id)
redis.call('ZREM', KEYS[3], rid)
local cursor = redis.call('XADD', KEYS[4], 'MINID', '~', minid, '*', 'c', cid, 'v', verdict, 's', 'MODERATOR',
  'm', moderator, 'r', ARGV[10], 't', ARGV[8], 'b', rec[2], 'o', publish, 'th', rec[1])
redis.call('XADD', KEYS[5], 'MINID', '~', minid, '*', 'at', ARGV[8], 'moderator', moderator, 'review_id', rid,
  'comment_id', cid, 'action', action, 'note', ARGV[9], 'reasons', ARGV[10])
-- An abuse rejection without a category teaches the item's highest-scoring one (the first of equal scores), insult
-- when none scored: the same rule as `store::review::abuse_label`.
local label = ARGV[15]
if label == 'abuse' then
  local best, top = 'insult', 0
  local scores = answer.abuse
  if type(scores) == 'table' then
    for _, name in ipairs({'threat', 'identity_attack', 'insult', 'sexual', 'profanity'}) do
      local s = tonumber(scores[name]) or 0
      if s > top then best, top = name, s end
    end
  end
  label = 'abuse:' .. best
end
redis.call('XADD', KEYS[6], 'MINID', '~', minid, '*', 'comment_id', cid, 'label', label, 'text', rec[2])

-- A reported comment was counted as approved when it was published: approving it again adds nothing.
if not (ARGV[14] == '1' and verdict == 'APPROVED') then
  local reps = {}
  if rec[3] and rec[3] ~= '' then reps[#reps + 1] = prefix .. 'a:' .. rec[3] end
  if rec[4] and rec[4] ~= '' then reps[#reps + 1] = prefix .. 'ip:' .. rec[4] end
  for _, key in ipairs(reps) do
    if verdict == 'APPROVED' then redis.call('HINCRBY', key, 'approved', 1) end
    if verdict == 'REJECTED' then redis.call('HINCRBY', key, 'rejected', 1) end
    if ARGV[12] == '1' then redis.call('HINCRBY', key, 'spam', 1) end
    redis.call('PEXPIRE', key, retention)
  end
end
if ARGV[14] == '1' then redis.call('HDEL', KEYS[7], cid) end

redis.call('HSET', rv, 'decided', '1', 'd_token', token, 'd_moderator', moderator, 'd_action', action,
  'd_comment', cid, 'd_verdict', verdict, 'd_cursor', cursor, 'token', '', 'expires', '0')
redis.call('PEXPIRE', rv, retention)
return {'decided', cid, verdict, cursor}
