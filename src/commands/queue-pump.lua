--[[
  queue-pump: the waiting room's clock (src/admission/pump.ts, every api process): ends the
  sessions past their end and those whose holds all expired, then admits the first in line
  while there is room. Concurrent runs are harmless: each is atomic and finds the work done.

  KEYS: the eight queue keys (queue-lib.lua).
  ARGV[1..5]: now, activeBuyers, session ms, sales opening ms, key TTL ms (queue-lib.lua)

  Returns {ended, waiting, active, queueId1, waited1 ms, queueId2, waited2, ...} (admitted now).
]]
local ended = expire()
local admitted = admit()
local out = { ended, redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4]) }
for _, v in ipairs(admitted) do out[#out + 1] = v end
return out
