--[[
  release: the buyer gives a HELD hold back now (HELD -> RELEASED): its seats are free again,
  the counters restored, in one call. Needs hold-lib.lua (prepended by src/commands/scripts.ts).

  KEYS[1] bits        zone seat bitmap
  KEYS[2] counts      zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] held        hash: seat offset -> holdId
  KEYS[4] held-until  sorted set: holdId -> expiresAt (ms)
  KEYS[5] hold        hash of this hold (KEYS[3] .. ':' .. holdId)
  ARGV[1] holdId
  ARGV[2] now (ms)

  Returns {code, ...} (HoldCode in src/commands/scripts.ts):
    {0, freed}   OK: released now (freed = seats freed); a hold already RELEASED answers {0, 0}
    {8}          HOLD_NOT_FOUND
    {9}          HOLD_NOT_ACTIVE: purchased or fenced
    {10}         HOLD_EXPIRED: it had expired (and is released as EXPIRED now if it was not yet)
]]
local Z = {bits = KEYS[1], counts = KEYS[2], held = KEYS[3], until_ = KEYS[4]}
local h = redis.call('HMGET', KEYS[5], 'status', 'expiresAt')
if not h[1] then return {8} end
if h[1] == 'released' then return {0, 0} end
if h[1] == 'expired' then return {10} end
if h[1] ~= 'held' then return {9} end
local now = tonumber(ARGV[2])
if tonumber(h[2]) <= now then
  free_hold(Z, ARGV[1], 'expired', now)
  return {10}
end
return {0, free_hold(Z, ARGV[1], 'released', now)}
