--[[
  restore-zone: rebuild a zone's inventory from the write model (DynamoDB) after Redis lost
  it, in one step. The caller sends the bitmap and counters it computed from the sold seats,
  so the call has one argument per row, not per seat (a sold-out 100,000-seat zone would not
  fit in a call's argument list otherwise). Refuses a zone that exists.

  KEYS[1] bits     zone seat bitmap
  KEYS[2] counts   zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] meta     hash: layout, capacity, rows
  KEYS[4] held     (optional) hash: seat offset -> holdId; KEYS[5] held-until (optional): deleted with the zone
  ARGV[1] layout hash
  ARGV[2] capacity
  ARGV[3] bitmap: ceil(capacity / 8) bytes, seat k = bit k, most significant bit first
  ARGV[4] zone seats available
  ARGV[5..] seats available per row

  Returns {code, sold}: {0, sold} rebuilt; {1, 0} the zone exists: unchanged;
                        {2, 0} the bitmap and the counters disagree: unchanged
]]
if redis.call('EXISTS', KEYS[3]) == 1 then return {1, 0} end
local capacity = tonumber(ARGV[2])
redis.call('DEL', KEYS[1], KEYS[2])
-- A zone made anew has no holds: a held-by entry left from before could free a seat sold later.
if KEYS[5] then redis.call('DEL', KEYS[4], KEYS[5]) end
-- Full size at once, as init-zone allocates it.
redis.call('SET', KEYS[1], ARGV[3])
local sold = redis.call('BITCOUNT', KEYS[1])
if sold ~= capacity - tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[1])
  return {2, 0}
end
local ops = {'SET', 'u32', 0, ARGV[4]}
for i = 5, #ARGV do
  ops[#ops + 1] = 'SET'
  ops[#ops + 1] = 'u16'
  ops[#ops + 1] = 32 + 16 * (i - 5)
  ops[#ops + 1] = ARGV[i]
end
redis.call('BITFIELD', KEYS[2], unpack(ops))
-- Rebuilt from the write model: trusted on this node (the failover fence, hold-lib.lua).
redis.call('HSET', KEYS[3], 'layout', ARGV[1], 'capacity', capacity, 'rows', #ARGV - 4, 'replid', node_replid())
return {0, sold}
