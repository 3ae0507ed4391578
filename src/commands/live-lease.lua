--[[
  live-lease: takes or keeps the lease on a zone's change log (src/live/zone-log.ts). Whoever
  holds it is the zone's one writer: it diffs the zone and appends change events (live-append.lua).

  KEYS[1] lease   string: the holder's token
  ARGV[1] token   this process's token for the zone
  ARGV[2] ttl     lease lifetime (ms)
  ARGV[3] mode    'take' (take or renew) or 'drop' (give it back if it is ours)

  Returns: 2 taken now (load the picture before writing), 1 renewed, 0 someone else holds it
  (take) / not ours (drop).
]]
local holder = redis.call('GET', KEYS[1])
if ARGV[3] == 'drop' then
  if holder == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
