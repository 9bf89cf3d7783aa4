-- ListQueue: undecided items after a page token, oldest first, optionally of one thread.
-- KEYS: 1 queue stream. ARGV: 1 after ("-" = from the start), 2 page size, 3 thread ("" = any), 4 queue prefix.
-- Returns {next_token_or_empty, review_id1, comment_id1, ...}
local start = '-'
if ARGV[1] ~= '-' then start = '(' .. ARGV[1] end
local size, thread, qprefix = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local out, last, more = {}, '', false
for _ = 1, 50 do
  local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 200)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    local f = {}
    for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
    if thread == '' or f['thread_id'] == thread then
      if #out / 2 >= size then
        more = true
        break
      end
      out[#out + 1] = qprefix .. '-' .. entry[1]
      out[#out + 1] = f['comment_id'] or ''
      last = entry[1]
    end
    start = '(' .. entry[1]
  end
  if more then break end
end
if not more then last = '' end
table.insert(out, 1, last)
return out
