--[[
  idem-write: replace (or delete) an Idempotency-Key's marker only while the key still belongs
  to the caller's purchase id. A first attempt that ends after a retry took the key over (and
  ran under a new purchase id) must not overwrite the retry's answer (docs/purchase-state-machine.md).

  KEYS[1] the key's marker: JSON {state, fingerprint, purchaseId, ...}
  ARGV[1] the purchase id the caller ran (or settled) the key's purchase under
  ARGV[2] the new marker (JSON), or '' to delete the marker
  ARGV[3] TTL of the new marker (seconds)

  Returns: 1 written (or deleted)
           0 refused: the key is absent (lost or expired: nobody waits for this answer under it),
             or its marker names another purchase id (a retry took it over), or none (written
             by an older version)
]]
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, marker = pcall(cjson.decode, raw)
if not ok or type(marker) ~= 'table' or marker.purchaseId ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
