--[[
  settle-closed-zone: the audit marks a closed zone settled (nothing pending, compared once
  more), but only the closing it audited. Between the audit's read and this write, reconcile
  may have re-opened the zone (its entry deleted) and closed it again (a new entry, with new
  pending purchases): settling that one would make the sweep skip it and strand them. So the
  entry is replaced only while it still holds exactly what the caller read (compare-and-set).

  KEYS[1] closed-zones  hash: <eventId>/<zoneId> -> the closed zone's JSON
  ARGV[1] the field, <eventId>/<zoneId>
  ARGV[2] the value the caller read (the closing it audited)
  ARGV[3] the value to write (the same closing with settledAt)

  Returns: 0 settled; 1 changed since it was read (re-opened, closed again, or gone): not written
]]
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 0
