-- Reads the decision stream after a cursor, refusing a cursor older than what trimming has removed (so a watcher
-- never silently skips events: it gets OUT_OF_RANGE and re-syncs).
--
-- KEYS: 1 decision stream. ARGV: 1 after ("-" = from the oldest retained), 2 count.
-- Returns {"ok", then per event 10 values: id, c, v, s, m, r, t, b, o, th} | {"expired"}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'ok'}
end

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if not ms then
    ms, seq = string.match(id, '^(%d+)$'), '0'
  end
  return tonumber(ms or 0), tonumber(seq or 0)
end

if ARGV[1] ~= '-' then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  local deleted = '0-0'
  for i = 1, #info, 2 do
    if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
  end
  local ams, aseq = parse(ARGV[1])
  local dms, dseq = parse(deleted)
  if ams < dms or (ams == dms and aseq < dseq) then
    return {'expired'}
  end
end

local start = '-'
if ARGV[1] ~= '-' then start = '(' .. ARGV[1] end
local out = {'ok'}
local names = {'c', 'v', 's', 'm', 'r', 't', 'b', 'o', 'th'}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ARGV[2])) do
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  out[#out + 1] = entry[1]
  for _, n in ipairs(names) do out[#out + 1] = f[n] or '' end
end
return out
