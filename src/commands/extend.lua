--[[
  extend: add time to a HELD hold that has not expired, never beyond its maxUntil
  (createdAt + HOLD_MAX_SECONDS). Touches no seat.

  KEYS[1] held-until  sorted set: holdId -> expiresAt (ms)
  KEYS[2] hold        hash of this hold
  ARGV[1] holdId
  ARGV[2] now (ms)
  ARGV[3] milliseconds to add to the current expiresAt (> 0)

  Returns {code, ...} (HoldCode in src/commands/scripts.ts):
    {0, expiresAt}   OK: the new expiresAt
    {8}              HOLD_NOT_FOUND
    {9}              HOLD_NOT_ACTIVE: released, purchased or fenced
    {10}             HOLD_EXPIRED: expired (released or not yet): extending cannot revive it
    {11, maxUntil}   HOLD_LIMIT_REACHED: the new expiry would pass maxUntil; nothing changed
]]
local h = redis.call('HMGET', KEYS[2], 'status', 'expiresAt', 'maxUntil')
if not h[1] then return {8} end
if h[1] == 'expired' then return {10} end
if h[1] ~= 'held' then return {9} end
local expiresAt = tonumber(h[2])
if expiresAt <= tonumber(ARGV[2]) then return {10} end
local wanted = expiresAt + tonumber(ARGV[3])
if wanted > tonumber(h[3]) then return {11, tonumber(h[3])} end
redis.call('HSET', KEYS[2], 'expiresAt', wanted)
redis.call('ZADD', KEYS[1], 'XX', wanted, ARGV[1])
return {0, wanted}
