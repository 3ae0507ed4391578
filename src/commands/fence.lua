--[[
  fence: settle, in the zone's slot, what became of a hold or purchase whose per-buyer allowance
  entry is still provisional after its lease (docs/purchase-state-machine.md, "Per-buyer limit").
  If the hold / purchase exists, say so; if it does not, write a tombstone under its id so that a
  late hold.lua / best.lua / reserve.lua / convert.lua with that id is refused (DUPLICATE) from now
  on. The answer is final: after it, step 2 of the provisional entry can no longer happen.

  KEYS[1] hold      hash of the hold (mode hold or convert; any key of the zone in mode purchase)
  KEYS[2] purchase  hash of the purchase (mode purchase or convert; any key of the zone in mode hold)
  ARGV[1] mode: hold | purchase | convert (a hold being paid: purchase first, then the hold)
  ARGV[2] now (ms)
  ARGV[3] tombstone TTL (seconds)

  Returns {code, expiresAt} (FenceCode in src/commands/scripts.ts):
    {0, 0}          GONE: nothing to count (absent, now fenced; or ended)
    {1, expiresAt}  HELD: the hold is live until expiresAt
    {2, 0}          PURCHASED: the purchase exists (reserved or confirmed, or being cancelled)
    {3, 0}          CANCELLED: the purchase existed and is cancelled (its seats are on sale again):
                    nothing to count, and nothing to fence (the id can never reserve again)
]]
local mode, now, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if mode == 'purchase' or mode == 'convert' then
  local p = redis.call('HMGET', KEYS[2], 'status', 'cancel')
  local status = p[1]
  if status == 'reserved' or status == 'confirmed' then return {p[2] == 'cancelled' and 3 or 2, 0} end
  if not status then
    redis.call('HSET', KEYS[2], 'status', 'fenced', 'fencedAt', now)
    redis.call('EXPIRE', KEYS[2], ttl)
  end
  if mode == 'purchase' then return {0, 0} end
end
local h = redis.call('HMGET', KEYS[1], 'status', 'expiresAt')
if not h[1] then
  redis.call('HSET', KEYS[1], 'status', 'fenced', 'fencedAt', now)
  redis.call('EXPIRE', KEYS[1], ttl)
  return {0, 0}
end
if h[1] == 'held' and tonumber(h[2]) > now then return {1, tonumber(h[2])} end
if h[1] == 'purchased' and mode == 'hold' then return {2, 0} end
return {0, 0}
