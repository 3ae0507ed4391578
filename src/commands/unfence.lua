--[[
  unfence: lifts a zone's failover fence once it was re-marked from the truth (DynamoDB and the
  Kafka tail, see src/inventory/fence.ts). The re-mark ran under the node replid that
  fence-status.lua answered; if the node's id changed since (another failover or restart during
  the re-mark), the re-mark may have written to a dataset that is gone, and the zone stays fenced.

  KEYS[1] meta     hash: layout, capacity, rows, replid
  ARGV[1] the node replid fence-status.lua answered before the re-mark
  Returns 0 UNFENCED (also when it was not fenced); 1 CHANGED: the node's id moved, re-mark again;
          2 NO_INVENTORY
]]
local node = node_replid()
if node ~= ARGV[1] then return 1 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 2 end
redis.call('HSET', KEYS[1], 'replid', node)
return 0
