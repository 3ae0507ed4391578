--[[
  convert: a paid hold becomes a purchase (HELD -> PURCHASED). The purchase record is exactly
  reserve.lua's pending record (same pending set, same purchase hash, plus holdId), so the batching
  sender, confirm.lua and the recovery sweep confirm it after the Kafka acknowledgement. The bits
  are not touched: the seats go from held to sold without ever being free.
  A late payment (the hold EXPIRED, HELD past expiresAt, or gone after a Redis loss) takes the same
  seats again if they are all free, as reserve.lua would; otherwise nothing changes and the caller
  refunds (docs/purchase-state-machine.md, "Late payment").
  Needs hold-lib.lua (prepended by src/commands/scripts.ts).

  KEYS[1] bits        zone seat bitmap
  KEYS[2] counts      zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] meta        hash: layout, capacity, rows (closed: the zone takes no new sales)
  KEYS[4] held        hash: seat offset -> holdId
  KEYS[5] held-until  sorted set: holdId -> expiresAt (ms)
  KEYS[6] hold        hash of this hold (KEYS[4] .. ':' .. holdId)
  KEYS[7] pending     sorted set: purchaseId -> reservedAt (ms), as reserve.lua
  KEYS[8] purchase    hash of the new purchase, as reserve.lua
  ARGV[1] layout hash the caller computed offsets with
  ARGV[2] holdId
  ARGV[3] purchaseId
  ARGV[4] now (ms)
  ARGV[5] purchase record body (JSON, opaque), as reserve.lua
  ARGV[6..] pairs: seat bit offset, row index (the hold's seats; needed when the hold is gone)

  Returns {code, ...} (HoldCode in src/commands/scripts.ts):
    {0, available}    OK: the live hold is now a RESERVED purchase
    {13, available}   LATE_RETAKEN: the hold had expired or was gone; the seats were free and are
                      now a RESERVED purchase
    {1, i1, i2, ...}  SEATS_TAKEN: late, and these seats (1-based, request order) are taken: refund
    {3, i}            OUT_OF_LAYOUT
    {4}               NO_INVENTORY
    {5}               LAYOUT_MISMATCH
    {6}               DUPLICATE: purchaseId exists for something else (or has a fence tombstone),
                      the hold was bought already, or a seat repeats
    {9}               HOLD_NOT_ACTIVE: the buyer released the hold: refund
    {12}              ZONE_CLOSED: refund
    {15}               REBUILDING: the zone is fenced until re-marked (see reserve.lua); nothing changed
    {14}              HOLD_SEATS_MISMATCH: the seats are not the live hold's seats
  A re-run for the same purchaseId answers its first outcome (0 or 13) and changes nothing.
]]
local Z = {bits = KEYS[1], counts = KEYS[2], held = KEYS[4], until_ = KEYS[5]}
local holdId, purchaseId = ARGV[2], ARGV[3]
local function available()
  return redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
end
local p = redis.call('HMGET', KEYS[8], 'status', 'holdId', 'late')
if p[1] == 'reserved' or p[1] == 'confirmed' then
  if p[2] == holdId then return {p[3] == '1' and 13 or 0, available()} end
  return {6}
elseif p[1] then
  return {6}
end
local meta = redis.call('HMGET', KEYS[3], 'layout', 'capacity', 'rows', 'closed', 'replid')
if not meta[1] then return {4} end
if not zone_trusted(meta[5]) then return {15} end
if meta[1] ~= ARGV[1] then return {5} end
if meta[4] then return {12} end
local now = tonumber(ARGV[4])

local function write_purchase(late)
  redis.call('HSET', KEYS[8], 'status', 'reserved', 'body', ARGV[5], 'reservedAt', now, 'holdId', holdId, 'late', late)
  redis.call('ZADD', KEYS[7], now, purchaseId)
end

local h = redis.call('HMGET', KEYS[6], 'status', 'expiresAt', 'seats')
if h[1] == 'released' then return {9} end
if h[1] == 'purchased' then return {6} end
if h[1] == 'held' and tonumber(h[2]) <= now then
  free_hold(Z, holdId, 'expired', now)
elseif h[1] == 'held' then
  local mine = {}
  local t = split_numbers(h[3])
  for i = 1, #t, 2 do mine[t[i]] = t[i + 1] end
  local n = 0
  for i = 6, #ARGV, 2 do
    n = n + 1
    if mine[tonumber(ARGV[i])] ~= tonumber(ARGV[i + 1]) then return {14} end
  end
  if n * 2 ~= #t then return {14} end
  local owns = true
  for i = 1, #t, 2 do
    if redis.call('GETBIT', KEYS[1], t[i]) ~= 1 or redis.call('HGET', KEYS[4], t[i]) ~= holdId then owns = false end
  end
  if owns then
    for i = 1, #t, 2 do redis.call('HDEL', KEYS[4], t[i]) end
    redis.call('ZREM', KEYS[5], holdId)
    redis.call('HSET', KEYS[6], 'status', 'purchased', 'purchaseId', purchaseId, 'endedAt', now)
    redis.call('EXPIRE', KEYS[6], HOLD_RECORD_TTL_SECONDS)
    write_purchase(0)
    return {0, available()}
  end
  -- A seat no longer belongs to the hold (a repair marked it sold, see mark-sold.lua): end the
  -- hold and try to take its seats again like a late payment; the lost seat refuses it.
  free_hold(Z, holdId, 'released', now)
end

-- Late: take the same seats again if they are all free, as reserve.lua does.
local capacity = tonumber(meta[2])
local rows = tonumber(meta[3])
local refused = refuse_seats(Z, KEYS[1], capacity, rows, 6, now)
if refused then return refused end
local n = (#ARGV - 5) / 2
if n == 0 then return {3, 1} end
local ops = {'INCRBY', 'u32', 0, -n}
for i = 6, #ARGV, 2 do
  redis.call('SETBIT', KEYS[1], ARGV[i], 1)
  redis.call('HDEL', KEYS[4], ARGV[i])
  ops[#ops + 1] = 'INCRBY'
  ops[#ops + 1] = 'u16'
  ops[#ops + 1] = row_counter(tonumber(ARGV[i + 1]))
  ops[#ops + 1] = -1
end
local after = redis.call('BITFIELD', KEYS[2], unpack(ops))[1]
write_purchase(1)
if h[1] then redis.call('HSET', KEYS[6], 'purchaseId', purchaseId) end
return {13, after}
