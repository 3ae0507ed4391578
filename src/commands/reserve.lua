--[[
  reserve: hold 1..N seats of one zone, all or nothing, and write the pending purchase record.

  KEYS[1] bits     zone seat bitmap (bit = 1: taken), row-major
  KEYS[2] counts   BITFIELD: u32 at #0 = zone available, u16 at bit 32 + 16*r = row r available
  KEYS[3] meta     hash: layout (layout hash), capacity, rows; closed (set when the zone left the catalog)
  KEYS[4] pending  sorted set: purchaseId -> reservedAt (ms)
  KEYS[5] purchase hash of this purchase: status, body, reservedAt
  ARGV[1] layout hash the caller computed offsets with
  ARGV[2] purchaseId
  ARGV[3] now (ms)
  ARGV[4] record body (JSON, opaque to the script)
  ARGV[5..] pairs: seat bit offset, row index

  A reserved record never expires (its outcome is open); confirm.lua sets the TTL once the
  outcome is final.

  Returns {code, ...}:
    {0, available}          OK: reserved; zone seats still available afterwards
    {1, i1, i2, ...}        SEATS_TAKEN: 1-based indexes (in request order) of taken seats
    {2}                     SOLD_OUT: the zone has no seat left
    {3, i}                  OUT_OF_LAYOUT: seat i is not in the layout
    {4}                     NO_INVENTORY: the zone has no inventory in Redis
    {5}                     LAYOUT_MISMATCH: caller's layout hash is stale
    {6}                     DUPLICATE: a seat repeats in the request, or purchaseId was voided/confirmed,
                            or abandoned (fenced by fence-purchase.lua: a retry runs under a new id)
    {7}                     ZONE_CLOSED: the zone left the catalog (its event or the zone was removed);
                            checked here, atomically, because an api may still have it in its catalog cache
  A re-run for a purchaseId that is still reserved (a client re-sending after a lost reply)
  returns {0, available} and changes nothing, so a retried call never sells twice.
]]
local existing = redis.call('HGET', KEYS[5], 'status')
if existing == 'reserved' then
  return {0, redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]}
elseif existing then
  return {6}
end
local meta = redis.call('HMGET', KEYS[3], 'layout', 'closed', 'capacity', 'rows')
if not meta[1] then return {4} end
if meta[2] then return {7} end
if meta[1] ~= ARGV[1] then return {5} end

local available = redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
if available == 0 then return {2} end

local capacity = tonumber(meta[3])
local rows = tonumber(meta[4])
local seen = {}
local taken = {}
local n = 0
for i = 5, #ARGV, 2 do
  n = n + 1
  local offset = tonumber(ARGV[i])
  local row = tonumber(ARGV[i + 1])
  if offset == nil or row == nil or offset < 0 or offset >= capacity or row < 0 or row >= rows then
    return {3, n}
  end
  if seen[offset] then return {6} end
  seen[offset] = true
  if redis.call('GETBIT', KEYS[1], offset) == 1 then taken[#taken + 1] = n end
end
if #taken > 0 then return {1, unpack(taken)} end

local ops = {'INCRBY', 'u32', 0, -n}
for i = 5, #ARGV, 2 do
  redis.call('SETBIT', KEYS[1], ARGV[i], 1)
  ops[#ops + 1] = 'INCRBY'
  ops[#ops + 1] = 'u16'
  ops[#ops + 1] = 32 + 16 * tonumber(ARGV[i + 1])
  ops[#ops + 1] = -1
end
local after = redis.call('BITFIELD', KEYS[2], unpack(ops))[1]
redis.call('HSET', KEYS[5], 'status', 'reserved', 'body', ARGV[4], 'reservedAt', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return {0, after}
