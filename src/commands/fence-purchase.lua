--[[
  fence-purchase: before a retry runs afresh under a new purchase id, make sure the old id can
  never reserve any more. A purchase hash with a final status other than `reserved` makes
  reserve.lua refuse that id (DUPLICATE), so a first attempt that reaches reserve.lua late holds
  nothing. The fence is never in the zone's pending set, so the sweep, confirm.lua and the audit
  never see it; GET /api/v1/purchases/{id} shows it as "not found" (nothing was sold).

  KEYS[1] purchase hash of the old purchase id (zoneKeys(...).purchase(purchaseId))
  ARGV[1] now (ms)
  ARGV[2] TTL of the fence (seconds): as long as the key's answer, past any late attempt

  Returns: 0 FENCED now: status=abandoned, the id sold nothing and never will
           1 RESERVED: the id reserved after all (status reserved or confirmed): settle it again
           2 ALREADY_FINAL: another final status (voided by an older version, or abandoned):
             it already cannot reserve
]]
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'reserved' or status == 'confirmed' then return 1 end
if status then return 2 end
redis.call('HSET', KEYS[1], 'status', 'abandoned', 'abandonedAt', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
