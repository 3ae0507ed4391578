--[[
  expire: release the zone's holds whose expiresAt <= now (HELD -> EXPIRED), up to a batch, for
  the hold sweeper. Seats freed and counters restored in the same call. Safe to run from any
  number of api replicas at once: a hold already expired is not found again.
  Needs hold-lib.lua (prepended by src/commands/scripts.ts).

  KEYS[1] bits        zone seat bitmap
  KEYS[2] counts      zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] held        hash: seat offset -> holdId
  KEYS[4] held-until  sorted set: holdId -> expiresAt (ms)
  ARGV[1] now (ms)
  ARGV[2] batch: at most this many holds

  Returns {handled, next, id1, id2, ...}: handled = index entries handled (expired holds, or stale
  entries dropped), next = the earliest expiresAt still in the zone (-1: no hold left), then the
  ids handled. next <= now means more are due than one batch took.
]]
local Z = {bits = KEYS[1], counts = KEYS[2], held = KEYS[3], until_ = KEYS[4]}
local ids = expire_due(Z, tonumber(ARGV[1]), tonumber(ARGV[2]))
local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
local reply = {#ids, first[2] and tonumber(first[2]) or -1}
for _, id in ipairs(ids) do reply[#reply + 1] = id end
return reply
