-- Shared by the scripts that read a comment record (`scripts.rs` puts this file before them).
-- A record keeps its thread and redacted body only inside its JSON fields ('rec' and 'answer'); records written
-- before that also have them as fields of their own ('thread', 'redacted'), which win when present.

-- A JSON object's fields, or an empty table when `text` is absent or not an object.
local function json(text)
  local ok, t = pcall(cjson.decode, text or '')
  if ok and type(t) == 'table' then return t end
  return {}
end

-- The thread and the redacted body of a record, from its 'thread', 'redacted' and 'rec' fields as HMGET returned them
-- (false when absent) and its decoded 'answer'.
local function thread_and_redacted(thread, redacted, rec, answer)
  return thread or tostring(json(rec).thread_id or ''), redacted or tostring(answer.redacted_body or '')
end
