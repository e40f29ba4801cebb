-- GCRA for one connection, atomically. KEYS[1]: the connection's key.
-- ARGV[1]: the period in microseconds (60 s / calls per minute); ARGV[2]: the burst.
-- Returns {1, remaining} when the call is allowed, {0, wait in microseconds} when refused.
-- The state is the theoretical arrival time (TAT) in microseconds of Redis's own clock, so
-- every replica agrees; it expires when it would be no different from a fresh key.
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tolerance = period * (burst - 1)
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
if tat - now > tolerance then
  return {0, tat - tolerance - now}
end
local next_tat = tat + period
local ttl_ms = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], next_tat, 'PX', ttl_ms)
local remaining = math.floor((tolerance - (next_tat - now)) / period) + 1
if remaining < 0 then
  remaining = 0
end
return {1, remaining}
