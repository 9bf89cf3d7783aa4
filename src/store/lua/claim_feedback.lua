-- Hands feedback entries to a learner (store::learning): first entries another learner claimed and left idle,
-- then entries no learner has seen. The learner group is created on first use, from the stream's start, so
-- feedback written before any learner ran is learned too.
--
-- KEYS: 1 feedback stream
-- ARGV: 1 group, 2 consumer, 3 count, 4 min idle ms
-- Returns a flat list: id, comment_id, label, text, id, ...
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
local count = tonumber(ARGV[3])
local out = {}
local function add(entry)
  -- XAUTOCLAIM leaves out entries deleted by trimming; guard anyway.
  if type(entry) ~= 'table' or type(entry[2]) ~= 'table' then return end
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  table.insert(out, entry[1])
  table.insert(out, f['comment_id'] or '')
  table.insert(out, f['label'] or '')
  table.insert(out, f['text'] or '')
end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0', 'COUNT', count)
for _, e in ipairs(claimed[2]) do add(e) end
local left = count - #out / 4
if left > 0 then
  local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', left, 'STREAMS', KEYS[1], '>')
  if fresh then
    for _, e in ipairs(fresh[1][2]) do add(e) end
  end
end
return out
