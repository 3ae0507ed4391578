--[[
  settle-zone: after expire.lua ran for a zone, update the sweeper's index of zones with holds,
  but only if no hold was created in the zone since the sweeper read its version (a holder bumps
  it after hold.lua / best.lua). Otherwise the zone stays due and the next pass looks again, so a
  race between a holder and a sweeper never drops a live hold from the index.

  KEYS[1] due      sorted set: "eventId.zoneId" -> when to look at the zone next (ms)
  KEYS[2] version  hash: "eventId.zoneId" -> counter
  ARGV[1] member   "eventId.zoneId"
  ARGV[2] version the sweeper read before expire.lua ('' = none)
  ARGV[3] next: the zone's earliest expiresAt (ms), or -1 when it has no hold left

  Returns: 1 settled; 0 the version moved, left due
]]
local version = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if version ~= ARGV[2] then return 0 end
if tonumber(ARGV[3]) < 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
