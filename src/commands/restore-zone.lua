--[[
  restore-zone: rebuild a zone's inventory from the write model (DynamoDB) after Redis lost
  it. Sets the given seats taken and the counters to match; refuses a zone that exists.

  KEYS[1] bits     zone seat bitmap
  KEYS[2] counts   zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] meta     hash: layout, capacity, rows
  ARGV[1] layout hash
  ARGV[2] capacity
  ARGV[3] number of rows R
  ARGV[4..3+R] seats per row
  ARGV[4+R..] pairs: sold seat bit offset, row index

  Returns {code, sold}: {0, sold} rebuilt; {1, 0} the zone exists: unchanged
]]
if redis.call('EXISTS', KEYS[3]) == 1 then return {1, 0} end
local capacity = tonumber(ARGV[2])
local rows = tonumber(ARGV[3])
local rowFree = {}
for r = 1, rows do rowFree[r] = tonumber(ARGV[3 + r]) end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SETBIT', KEYS[1], capacity - 1, 0)
local sold = 0
for i = 4 + rows, #ARGV, 2 do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then
    sold = sold + 1
    local r = tonumber(ARGV[i + 1]) + 1
    rowFree[r] = rowFree[r] - 1
  end
end
local ops = {'SET', 'u32', 0, capacity - sold}
for r = 1, rows do
  ops[#ops + 1] = 'SET'
  ops[#ops + 1] = 'u16'
  ops[#ops + 1] = 32 + 16 * (r - 1)
  ops[#ops + 1] = rowFree[r]
end
redis.call('BITFIELD', KEYS[2], unpack(ops))
redis.call('HSET', KEYS[3], 'layout', ARGV[1], 'capacity', capacity, 'rows', rows)
return {0, sold}
