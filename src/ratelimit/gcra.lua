-- Cluster-wide GCRA for one request, in ONE round trip (ratelimit/global.rs).
--
-- KEYS[1..n]   GCRA state of each limit the request must pass, narrowest first; value = theoretical arrival time
--              (TAT) in microseconds of Redis's clock. An absent key is a full bucket.
-- KEYS[n+1]    (when ARGV[2] == "1") the thread's surge GCRA state
-- KEYS[n+2]    (when ARGV[2] == "1") the thread's surge marker: present while the thread is in surge
-- ARGV[1]      n
-- ARGV[2]      "1" when surge control runs here, else "0"
-- ARGV[3..]    per limit: emission interval (µs), burst tolerance (µs); then, for surge: interval, tolerance,
--              cool-down (ms)
--
-- Returns {0, surge} when every limit passed (surge: 1 = hold the comment) or {i, wait_us} when limit i refused.
--
-- All or nothing: every limit is tested before any is written, so a refused request consumes no quota at all
-- (unlike the local limits, which consume narrower quotas before a broader one refuses). Redis's own clock (TIME)
-- is the one time source of every replica, so their clocks need not agree. Every key carries the site's hash tag
-- and a TTL that ends when its bucket is full again, so the state of idle keys disappears by itself.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local next_tat = {}

for i = 1, n do
  local interval = tonumber(ARGV[1 + 2 * i])
  local tolerance = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  if tat - now > tolerance then
    return {i, tat - tolerance - now}
  end
  next_tat[i] = tat + interval
end

for i = 1, n do
  -- %d: a plain tostring would print a 16-digit number in exponent form and lose precision.
  redis.call('SET', KEYS[i], string.format('%d', next_tat[i]), 'PX', math.ceil((next_tat[i] - now) / 1000))
end

local surge = 0
if ARGV[2] == '1' then
  local s = 3 + 2 * n
  local interval = tonumber(ARGV[s])
  local tolerance = tonumber(ARGV[s + 1])
  local cooldown_ms = tonumber(ARGV[s + 2])
  if redis.call('EXISTS', KEYS[n + 2]) == 1 then
    surge = 1
  else
    local tat = tonumber(redis.call('GET', KEYS[n + 1]) or now)
    if tat < now then tat = now end
    if tat - now > tolerance then
      redis.call('SET', KEYS[n + 2], '1', 'PX', cooldown_ms)
      surge = 1
    else
      tat = tat + interval
      redis.call('SET', KEYS[n + 1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
    end
  end
end
return {0, surge}
