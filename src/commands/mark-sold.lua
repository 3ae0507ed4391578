--[[
  mark-sold: mark seats taken that the write model (DynamoDB, the truth) holds as sold but the
  zone's bitmap shows free, e.g. after an asynchronous Redis failover lost the last writes.
  Only ever takes seats: a seat already taken is left alone, so it is safe to repeat.

  KEYS[1] bits     zone seat bitmap
  KEYS[2] counts   zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] meta     hash: layout, capacity, rows
  KEYS[4] held     (optional) hash: seat offset -> holdId. A seat the write model holds as sold is
                   no longer held: its entry is removed, so the hold's expiry cannot free it.
  ARGV[1] layout hash the caller computed offsets with
  ARGV[2..] pairs: seat bit offset, row index

  Returns {code, marked}: {0, n} n seats newly marked; {4, 0} no inventory; {5, 0} layout mismatch
]]
local layout = redis.call('HGET', KEYS[3], 'layout')
if not layout then return {4, 0} end
if layout ~= ARGV[1] then return {5, 0} end
local capacity = tonumber(redis.call('HGET', KEYS[3], 'capacity'))
local ops = {}
local n = 0
for i = 2, #ARGV, 2 do
  local offset = tonumber(ARGV[i])
  if offset and offset >= 0 and offset < capacity and KEYS[4] then redis.call('HDEL', KEYS[4], offset) end
  if offset and offset >= 0 and offset < capacity and redis.call('SETBIT', KEYS[1], offset, 1) == 0 then
    n = n + 1
    ops[#ops + 1] = 'INCRBY'
    ops[#ops + 1] = 'u16'
    ops[#ops + 1] = 32 + 16 * tonumber(ARGV[i + 1])
    ops[#ops + 1] = -1
  end
end
if n > 0 then redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u32', 0, -n, unpack(ops)) end
return {0, n}
