--[[
  rate-limit: one token bucket (src/admission/rate-limit.ts): `rate` tokens per second up to
  `burst`; a request takes one. Redis's own clock (TIME), so every api replica fills the bucket
  at the same pace whatever its clock says.

  KEYS[1] bucket  hash: t tokens left, ts last refill (ms)
  ARGV[1] rate (tokens per second)
  ARGV[2] burst (bucket size)

  Returns {1, 0} allowed, or {0, retry-after ms}: refused until one token has refilled.
]]
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(b[1]) or burst
local last = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate / 1000)
local ttl = math.ceil(burst / rate * 1000) + 1000
if tokens >= 1 then
  redis.call('HSET', KEYS[1], 't', tokens - 1, 'ts', now)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return { 1, 0 }
end
redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], ttl)
return { 0, math.ceil((1 - tokens) * 1000 / rate) }
