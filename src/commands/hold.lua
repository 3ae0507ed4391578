--[[
  hold: hold 1..N named seats of one zone for a buyer, all or nothing, until expiresAt. The
  bits and counters move exactly as in reserve.lua (a held seat is taken); the hold record, the
  expiry index and the seats' held-by entries are written in the same call. No purchase record,
  no Kafka record: a hold is not a sale (docs/purchase-state-machine.md, "Holds").
  Needs hold-lib.lua (prepended by src/commands/scripts.ts).

  KEYS[1] bits        zone seat bitmap (bit = 1: taken, held or sold), row-major
  KEYS[2] counts      BITFIELD: u32 at #0 = zone available, u16 at bit 32 + 16*r = row r available
  KEYS[3] meta        hash: layout, capacity, rows (closed: the zone takes no new sales)
  KEYS[4] held        hash: seat offset -> holdId
  KEYS[5] held-until  sorted set: holdId -> expiresAt (ms)
  KEYS[6] hold        hash of this hold (KEYS[4] .. ':' .. holdId)
  ARGV[1] layout hash the caller computed offsets with
  ARGV[2] holdId
  ARGV[3] now (ms)
  ARGV[4] expiresAt (ms)
  ARGV[5] maxUntil (ms): createdAt + HOLD_MAX_SECONDS; extend.lua never goes beyond it
  ARGV[6] buyer ('' for anonymous)
  ARGV[7] info: opaque JSON kept with the hold (price, currency)
  ARGV[8..] pairs: seat bit offset, row index

  A taken seat whose hold has expired is released (the whole hold, EXPIRED) and then taken.

  Returns {code, ...} (HoldCode in src/commands/scripts.ts):
    {0, available, expiresAt}  OK: held; zone seats still available afterwards
    {1, i1, i2, ...}           SEATS_TAKEN: 1-based indexes (request order) of taken seats
    {2}                        SOLD_OUT: the zone has no seat left
    {3, i}                     OUT_OF_LAYOUT: seat i is not in the layout
    {4}                        NO_INVENTORY: the zone has no inventory in Redis
    {5}                        LAYOUT_MISMATCH: caller's layout hash is stale
    {6}                        DUPLICATE: a seat repeats, or holdId exists and is not HELD (a fence
                               tombstone included)
    {12}                       ZONE_CLOSED: the zone's meta has `closed` set
    {15}               REBUILDING: the zone is fenced until re-marked (see reserve.lua); nothing changed
  A re-run for a holdId that is HELD returns {0, available, expiresAt} and changes nothing.
]]
local Z = {bits = KEYS[1], counts = KEYS[2], held = KEYS[4], until_ = KEYS[5]}
local existing = redis.call('HMGET', KEYS[6], 'status', 'expiresAt')
if existing[1] == 'held' then
  return {0, redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1], tonumber(existing[2])}
elseif existing[1] then
  return {6}
end
local meta = redis.call('HMGET', KEYS[3], 'layout', 'capacity', 'rows', 'closed', 'replid')
if not meta[1] then return {4} end
if not zone_trusted(meta[5]) then return {15} end
if meta[1] ~= ARGV[1] then return {5} end
if meta[4] then return {12} end
local now = tonumber(ARGV[3])

local available = redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
if available == 0 and not has_expired_hold(Z, now) then return {2} end

local capacity = tonumber(meta[2])
local rows = tonumber(meta[3])
local refused = refuse_seats(Z, KEYS[1], capacity, rows, 8, now)
if refused then return refused end
local t = {}
for i = 8, #ARGV do t[#t + 1] = tonumber(ARGV[i]) end
if #t == 0 then return {3, 1} end

local after = take_for_hold(Z, ARGV[2], t, {
  buyer = ARGV[6], now = now, expiresAt = ARGV[4], maxUntil = ARGV[5], info = ARGV[7],
})
return {0, after, tonumber(ARGV[4])}
