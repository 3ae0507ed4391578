--[[
  reserve: hold 1..N seats of one zone, all or nothing, and write the pending purchase record.

  KEYS[1] bits     zone seat bitmap (bit = 1: taken), row-major
  KEYS[2] counts   BITFIELD: u32 at #0 = zone available, u16 at bit 32 + 16*r = row r available
  KEYS[3] meta     hash: layout (layout hash), capacity, rows; closed (set when the zone left the catalog);
                   replid (the replication id its state is trusted under, see hold-lib.lua)
  KEYS[4] pending  sorted set: purchaseId -> reservedAt (ms)
  KEYS[5] purchase hash of this purchase: status, body, reservedAt
  KEYS[6] held     (optional) hash: seat offset -> holdId of held seats (see hold.lua)
  KEYS[7] held-until (optional) sorted set: holdId -> expiresAt (ms)
  ARGV[1] layout hash the caller computed offsets with
  ARGV[2] purchaseId
  ARGV[3] now (ms)
  ARGV[4] record body (JSON, opaque to the script)
  ARGV[5..] pairs: seat bit offset, row index

  A reserved record never expires (its outcome is open); confirm.lua sets the TTL once the
  outcome is final.
  With KEYS[6..7] (and hold-lib.lua, which src/commands/scripts.ts prepends), a taken seat whose
  hold has expired is released (the whole hold, EXPIRED) and then reserved, so an expired hold
  never blocks a buyer; the held-by entry of every seat taken is removed.

  Returns {code, ...}:
    {0, available, held}    OK: reserved; zone seats still available afterwards (and, when none is,
                            how many seats are held: those may come back)
    {1, i1, i2, ...}        SEATS_TAKEN: 1-based indexes (in request order) of taken seats; negated
                            for a seat a live hold has (it may be free again soon)
    {2, held}               SOLD_OUT: the zone has no seat left; `held` of them are held
    {3, i}                  OUT_OF_LAYOUT: seat i is not in the layout
    {4}                     NO_INVENTORY: the zone has no inventory in Redis
    {5}                     LAYOUT_MISMATCH: caller's layout hash is stale
    {6}                     DUPLICATE: a seat repeats in the request, or purchaseId was voided/confirmed,
                            or fenced ( by fence.lua: a retry runs under a new id)
    {7}                     ZONE_CLOSED: the zone left the catalog (its event or the zone was removed);
                            checked here, atomically, because an api may still have it in its catalog cache
    {8}                     REBUILDING: the zone is fenced (meta `replid` is not this node's replication
                            id: a restart or failover may have lost writes) until it is re-marked from
                            the truth; nothing reserved
  A re-run for a purchaseId that is still reserved (a client re-sending after a lost reply)
  returns {0, available} and changes nothing, so a retried call never sells twice.
]]
local existing = redis.call('HGET', KEYS[5], 'status')
if existing == 'reserved' then
  local left = redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
  return {0, left, (left == 0 and KEYS[6]) and redis.call('HLEN', KEYS[6]) or 0}
elseif existing then
  return {6}
end
local meta = redis.call('HMGET', KEYS[3], 'layout', 'closed', 'capacity', 'rows', 'replid')
if not meta[1] then return {4} end
if meta[2] then return {7} end
if not zone_trusted(meta[5]) then return {8} end
if meta[1] ~= ARGV[1] then return {5} end

local Z = KEYS[7] and {bits = KEYS[1], counts = KEYS[2], held = KEYS[6], until_ = KEYS[7]}
local available = redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
if available == 0 and not (Z and has_expired_hold(Z, tonumber(ARGV[3]))) then return {2, Z and redis.call('HLEN', KEYS[6]) or 0} end

local capacity = tonumber(meta[3])
local rows = tonumber(meta[4])
local refused = refuse_seats(Z, KEYS[1], capacity, rows, 5, tonumber(ARGV[3]))
if refused and refused[1] == 1 and Z then
  -- A seat taken by a live hold is reported negated: it may be free again in a moment (a release,
  -- an expiry), so the api must not remember it as taken the way it remembers a sale.
  for j = 2, #refused do
    if redis.call('HEXISTS', KEYS[6], ARGV[5 + 2 * (refused[j] - 1)]) == 1 then refused[j] = -refused[j] end
  end
end
if refused then return refused end
local n = (#ARGV - 4) / 2

local ops = {'INCRBY', 'u32', 0, -n}
for i = 5, #ARGV, 2 do
  redis.call('SETBIT', KEYS[1], ARGV[i], 1)
  if Z then redis.call('HDEL', KEYS[6], ARGV[i]) end
  ops[#ops + 1] = 'INCRBY'
  ops[#ops + 1] = 'u16'
  ops[#ops + 1] = 32 + 16 * tonumber(ARGV[i + 1])
  ops[#ops + 1] = -1
end
local after = redis.call('BITFIELD', KEYS[2], unpack(ops))[1]
redis.call('HSET', KEYS[5], 'status', 'reserved', 'body', ARGV[4], 'reservedAt', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return {0, after, (after == 0 and Z) and redis.call('HLEN', KEYS[6]) or 0}
