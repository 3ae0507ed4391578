--[[
  allowance-acquire: step 1 of a buyer's hold or purchase (docs/purchase-state-machine.md,
  "Per-buyer limit"): in the buyer's slot, count what the buyer holds or bought for the event and,
  if N more seats stay within the limit, write a PROVISIONAL entry for this hold / purchase id.

  KEYS[1] allowance  hash: entry id -> JSON {n, s, u, k, z, h, p, t, f}
                     n seats; s state: p provisional | h hold | b bought; u until (ms: p = lease
                     end, h = hold expiry + grace, b = 0); k kind: hold | purchase | convert;
                     z zoneId; h holdId; p purchaseId; t token (p only); f floor for u (extends
                     that arrived while provisional)
  ARGV[1] entry id (the hold id, or the purchase id of a direct purchase)
  ARGV[2] seats N
  ARGV[3] limit (the event's perUserLimit)
  ARGV[4] now (ms)
  ARGV[5] lease end (ms): after it the entry may be resolved by fence.lua
  ARGV[6] token (random, per request)
  ARGV[7] kind: hold | purchase | convert
  ARGV[8] zoneId
  ARGV[9] holdId ('' if none)
  ARGV[10] purchaseId ('' if none)

  Counting: b always; h while u > now (lapsed h entries are deleted here); p always, until
  resolved, whatever its lease says. The entry for this id itself is not counted (it is replaced:
  paying a hold moves its seats from h to p without counting them twice), unless it is bought
  already (a re-run): then it is left as it is and the answer is OK.

  Returns {code, ...} (AllowanceCode in src/commands/scripts.ts):
    {0, left}                   OK: provisional entry written; `left` seats remain allowed
    {1, left, id1, id2, ...}    BUYER_LIMIT_REACHED: `left` seats remain allowed (< N); ids of
                                provisional entries whose lease ended, to resolve before retrying
    {2}                         BUSY: a provisional entry for this id belongs to another request
]]
local id, n, limit, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local counted = 0
local lapsed = {}
local mine = nil
for i = 1, #all, 2 do
  local key, e = all[i], cjson.decode(all[i + 1])
  if key == id then
    mine = e
  elseif e.s == 'b' then
    counted = counted + e.n
  elseif e.s == 'h' then
    if e.u > now then counted = counted + e.n else redis.call('HDEL', KEYS[1], key) end
  else
    counted = counted + e.n
    if e.u <= now then lapsed[#lapsed + 1] = key end
  end
end
if mine and mine.s == 'p' and mine.t ~= ARGV[6] then return {2} end
-- Already bought under this id (a re-run): counted for good, nothing to add.
if mine and mine.s == 'b' then return {0, limit - counted - mine.n} end
local left = limit - counted
if n > left then
  local reply = {1, math.max(left, 0)}
  for _, key in ipairs(lapsed) do reply[#reply + 1] = key end
  return reply
end
local floor = 0
if mine then floor = math.max(mine.f or 0, (mine.s == 'h' and mine.u) or 0) end
redis.call('HSET', KEYS[1], id, cjson.encode({
  n = n, s = 'p', u = tonumber(ARGV[5]), k = ARGV[7], z = ARGV[8], h = ARGV[9], p = ARGV[10], t = ARGV[6], f = floor,
}))
return {0, left - n}
