--[[
  release-cancelled: the last step of a cancellation, run only after Kafka acknowledged the
  purchase's TicketsCancelled event (acks=all): frees its seats (bits and counters together, so
  the counters stay equal to the bitmap's popcount) and marks the record CANCELLED, at most
  once. A record that is not CANCELLING frees nothing, so two cancels of one purchase (or a
  cancel and the sweep) never free a seat twice, and a seat resold since is never touched.

  KEYS[1] bits       zone seat bitmap (bit = 1: taken)
  KEYS[2] counts     zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] meta       hash: layout, capacity, rows
  KEYS[4] cancelling zone sorted set of cancelling purchase ids (cancel.lua)
  KEYS[5] purchase   hash of this purchase
  ARGV[1] layout hash the caller computed offsets with
  ARGV[2] purchaseId
  ARGV[3] now (ms)
  ARGV[4] record TTL (seconds) from now on: the outcome is final, the stores keep the tickets
  ARGV[5] mode: 'remark' (the failover re-mark, which passes only the seats DynamoDB shows with
          no live owner) runs in a fenced zone; anything else is refused there (FENCED)
  ARGV[6..] pairs: seat bit offset, row index (the purchase's seats)

  Returns {code, released}:
    {0, n}  RELEASED: n seats freed now (a seat already free is skipped), record CANCELLED
    {1, 0}  ALREADY_CANCELLED: nothing changes
    {2, 0}  NOT_CANCELLING: the record is not being cancelled (or is gone): nothing freed
    {4, 0}  NO_INVENTORY: the zone has no inventory (lost, or reset): the record is marked
            CANCELLED without freeing anything. A rebuild reads DynamoDB only after the writer
            committed the zone's partition, which holds this acknowledged event, so the rebuilt
            zone has these seats free; freeing them afterwards could free a resale's seat
    {5, 0}  LAYOUT_MISMATCH: the caller's layout hash is stale
    {6, 0}  FENCED: the zone's failover fence is up (hold-lib.lua, zone_trusted): nothing
            changes. A seat of this purchase may have been resold on the lost node and that sale
            re-marked from DynamoDB; the re-mark settles the record, seat by seat against the
            truth, or the sweep releases it once the zone is trusted again
]]
local cancel = redis.call('HGET', KEYS[5], 'cancel')
if cancel == 'cancelled' then
  redis.call('ZREM', KEYS[4], ARGV[2])
  return {1, 0}
end
if cancel ~= 'cancelling' then return {2, 0} end
local function settle()
  redis.call('HSET', KEYS[5], 'cancel', 'cancelled', 'cancelledAt', ARGV[3])
  redis.call('EXPIRE', KEYS[5], ARGV[4])
  redis.call('ZREM', KEYS[4], ARGV[2])
end
local meta = redis.call('HMGET', KEYS[3], 'layout', 'capacity', 'rows', 'replid')
if not meta[1] then
  settle()
  return {4, 0}
end
if meta[1] ~= ARGV[1] then return {5, 0} end
if ARGV[5] ~= 'remark' and not zone_trusted(meta[4]) then return {6, 0} end

local capacity = tonumber(meta[2])
local rows = tonumber(meta[3])
local ops = {}
local n = 0
for i = 6, #ARGV, 2 do
  local offset = tonumber(ARGV[i])
  local row = tonumber(ARGV[i + 1])
  if offset and row and offset >= 0 and offset < capacity and row >= 0 and row < rows
     and redis.call('SETBIT', KEYS[1], offset, 0) == 1 then
    n = n + 1
    ops[#ops + 1] = 'INCRBY'
    ops[#ops + 1] = 'u16'
    ops[#ops + 1] = 32 + 16 * row
    ops[#ops + 1] = 1
  end
end
if n > 0 then redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u32', 0, n, unpack(ops)) end
settle()
return {0, n}
