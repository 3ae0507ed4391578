--[[
  init-zone: create a zone's inventory when absent, all seats free. Never resets a zone
  that exists: an existing zone with the same layout is left alone, and one with another
  layout is re-created only when no seat of it is taken.

  KEYS[1] bits     zone seat bitmap
  KEYS[2] counts   zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] meta     hash: layout, capacity, rows
  KEYS[4] held     (optional) hash: seat offset -> holdId; KEYS[5] held-until (optional): deleted with the zone
  ARGV[1] layout hash
  ARGV[2] capacity (seats)
  ARGV[3..] seats per row, one per row

  The caller wants the zone on sale: a zone closed by a removal (meta field `closed`, see
  close-zone.lua) that is wanted again is re-opened, also when its layout change is refused
  (it then sells on the layout it has).

  Returns {code, sold}:
    {0, 0}    created
    {1, sold} exists with the same layout: unchanged
    {2, sold} exists with another layout and sold > 0 (or fenced, see hold-lib.lua): refused, unchanged
    {3, 0}    exists with another layout and nothing sold: re-created
]]
local capacity = tonumber(ARGV[2])
local current = redis.call('HGET', KEYS[3], 'layout')
local code = 0
if current then
  local oldCapacity = tonumber(redis.call('HGET', KEYS[3], 'capacity'))
  local available = redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
  local sold = oldCapacity - available
  if current == ARGV[1] then
    redis.call('HDEL', KEYS[3], 'closed')
    return {1, sold}
  end
  -- A fenced zone (see hold-lib.lua) may show seats free that are sold: not re-created until re-marked.
  local trusted = zone_trusted(redis.call('HGET', KEYS[3], 'replid'))
  if sold > 0 or redis.call('BITCOUNT', KEYS[1]) > 0 or not trusted then
    redis.call('HDEL', KEYS[3], 'closed')
    return {2, sold}
  end
  code = 3
end
redis.call('DEL', KEYS[1], KEYS[2])
-- A zone made anew has no holds: a held-by entry left from before could free a seat sold later.
if KEYS[5] then redis.call('DEL', KEYS[4], KEYS[5]) end
-- Allocate the bitmap at full size at once so it never reallocates under load.
redis.call('SETBIT', KEYS[1], capacity - 1, 0)
local ops = {'SET', 'u32', 0, capacity}
for i = 3, #ARGV do
  ops[#ops + 1] = 'SET'
  ops[#ops + 1] = 'u16'
  ops[#ops + 1] = 32 + 16 * (i - 3)
  ops[#ops + 1] = ARGV[i]
end
redis.call('BITFIELD', KEYS[2], unpack(ops))
redis.call('HDEL', KEYS[3], 'closed')
-- A zone made here, all seats free, is the truth on this node (the failover fence, hold-lib.lua).
redis.call('HSET', KEYS[3], 'layout', ARGV[1], 'capacity', capacity, 'rows', #ARGV - 2, 'replid', node_replid())
return {code, 0}
