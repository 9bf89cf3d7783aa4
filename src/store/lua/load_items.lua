-- Loads everything a moderator sees for a list of review items, in one round trip.
--
-- ARGV: 1 site key prefix, 2 now ms, then pairs (review_id, comment_id)
-- Returns per item 24 values: review_id, then the record's rec, answer, review, cursor, verdict, source, moderator,
-- decided_at, publish_original, expires_at, sha, ak, ik; then the item's token, claim moderator, lease expiry,
-- deliveries, reports, reasons (joined by newlines); then the author's submitted, approved, rejected, spam.
-- An item whose record has expired is skipped.
local prefix, now = ARGV[1], tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV, 2 do
  local rid, cid = ARGV[i], ARGV[i + 1]
  local rec = redis.call('HMGET', prefix .. 'c:' .. cid, 'rec', 'answer', 'review', 'cursor', 'verdict', 'source',
    'moderator', 'decided_at', 'publish_original', 'expires_at', 'sha', 'ak', 'ik')
  if rec[1] then
    local rv = redis.call('HMGET', prefix .. 'rv:' .. rid, 'token', 'moderator', 'expires', 'deliveries', 'reports')
    local token, claimer, expires = rv[1] or '', rv[2] or '', rv[3] or '0'
    if tonumber(expires) <= now then token, claimer, expires = '', '', '0' end
    local reasons = redis.call('LRANGE', prefix .. 'rv:' .. rid .. ':why', 0, -1)
    local rep = {'0', '0', '0', '0'}
    if rec[12] and rec[12] ~= '' then
      local r = redis.call('HMGET', prefix .. 'a:' .. rec[12], 'submitted', 'approved', 'rejected', 'spam')
      for k = 1, 4 do rep[k] = r[k] or '0' end
    end
    out[#out + 1] = rid
    for k = 1, 13 do out[#out + 1] = rec[k] or '' end
    out[#out + 1] = token
    out[#out + 1] = claimer
    out[#out + 1] = expires
    out[#out + 1] = rv[4] or '0'
    out[#out + 1] = rv[5] or '0'
    out[#out + 1] = table.concat(reasons, '\n')
    for k = 1, 4 do out[#out + 1] = rep[k] end
  end
end
return out
