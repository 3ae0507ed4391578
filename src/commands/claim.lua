--[[
  claim: take up to N stale pending purchases of one zone for re-sending, so that two
  sweeping replicas never re-send the same record at the same time.

  KEYS[1] pending  zone sorted set: purchaseId -> reserved-or-last-claimed time (ms)
  ARGV[1] cutoff (ms): claim ids whose score is at or below it
  ARGV[2] now (ms): their new score
  ARGV[3] limit

  Returns: the claimed purchase ids
]]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id)
end
return ids
