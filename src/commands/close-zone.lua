--[[
  close-zone: fence a zone that leaves the catalog (its event or the zone itself was removed)
  before anything of it is deleted. From then on reserve.lua refuses it (ZONE_CLOSED), even
  for an api whose catalog cache still shows it; purchases reserved before go on to be
  confirmed or voided as usual. init-zone.lua re-opens a zone that is wanted again.

  KEYS[1] meta     hash: layout, capacity, rows; closed (ms since the epoch, set here)
  ARGV[1] now (ms)

  Returns: 1 closed (now or before); 0 the zone has no inventory: nothing to fence
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'closed', ARGV[1])
return 1
