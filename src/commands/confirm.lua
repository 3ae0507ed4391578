--[[
  confirm: mark a reserved purchase confirmed after Kafka acknowledged its record.

  KEYS[1] pending  zone sorted set of pending purchase ids
  KEYS[2] purchase hash of this purchase
  ARGV[1] purchaseId
  ARGV[2] now (ms)
  ARGV[3] record TTL (seconds) from now on: the outcome is final, the stores keep the ticket

  Returns: 0 confirmed now; 1 already confirmed; 2 no such purchase;
           3 voided: a record an older version released (purchases are no longer voided, see
             docs/purchase-state-machine.md); its seats may be sold again, so never confirm it
           4 fenced: the fence fence.lua left when a retry ran afresh under a new
             purchase id; that id never reserved anything, so never confirm it
]]
local status = redis.call('HGET', KEYS[2], 'status')
redis.call('ZREM', KEYS[1], ARGV[1])
if not status then return 2 end
if status == 'confirmed' then return 1 end
if status == 'voided' then return 3 end
if status == 'fenced' then return 4 end
redis.call('HSET', KEYS[2], 'status', 'confirmed', 'confirmedAt', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 0
