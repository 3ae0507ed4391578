--[[
  void: release the seats of a reserved purchase whose record certainly never reached Kafka.

  KEYS[1] bits     zone seat bitmap
  KEYS[2] counts   zone/row available counters (BITFIELD, see reserve.lua)
  KEYS[3] pending  zone sorted set of pending purchase ids
  KEYS[4] purchase hash of this purchase
  ARGV[1] purchaseId
  ARGV[2] now (ms)
  ARGV[3] record TTL (seconds)
  ARGV[4..] pairs: seat bit offset, row index (as passed to reserve.lua)

  Returns: 0 voided; 1 not reserved (confirmed, voided or unknown): nothing changed;
           2 claimed by a sweep (its pending score moved): it may be in Kafka, nothing changed
]]
if redis.call('HGET', KEYS[4], 'status') ~= 'reserved' then return 1 end
-- A sweep's claim re-scores the pending entry; once claimed, the record may be on its way.
if tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1])) ~= tonumber(redis.call('HGET', KEYS[4], 'reservedAt')) then return 2 end
local ops = {}
local n = 0
for i = 4, #ARGV, 2 do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 0) == 1 then
    n = n + 1
    ops[#ops + 1] = 'INCRBY'
    ops[#ops + 1] = 'u16'
    ops[#ops + 1] = 32 + 16 * tonumber(ARGV[i + 1])
    ops[#ops + 1] = 1
  end
end
if n > 0 then
  redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u32', 0, n, unpack(ops))
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], 'status', 'voided', 'voidedAt', ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[3])
return 0
