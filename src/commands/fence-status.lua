--[[
  fence-status: whether a zone is fenced, i.e. its state is not trusted on the node that holds it
  now (docs/purchase-state-machine.md, "Failover fence"). The zone's meta carries `replid`, the
  replication id of the node it was last made true on; this node's id changes on a restart or
  when a replica was promoted, and then the zone may have lost writes Kafka already holds.

  KEYS[1] meta     hash: layout, capacity, rows, replid
  Returns {code, node replid}: {0, id} trusted; {1, id} fenced (re-mark it, then unfence.lua);
                               {2, id} no inventory
]]
local node = node_replid()
local meta = redis.call('HMGET', KEYS[1], 'layout', 'replid')
if not meta[1] then return {2, node} end
if meta[2] == node then return {0, node} end
return {1, node}
