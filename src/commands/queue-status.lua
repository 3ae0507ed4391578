--[[
  queue-status: one visit's state and place (docs/admission.md, "Status"). Reads only: the pump
  and the end of sessions move the line.

  KEYS: the eight queue keys (queue-lib.lua).
  ARGV[1..5]: now, activeBuyers, session ms, sales opening ms, key TTL ms (queue-lib.lua)
  ARGV[6] queueId

  Returns {QueueCode.NOT_FOUND (2)} for an unknown queueId, else describe() with code OK (0).
]]
local e = entry(ARGV[6])
if not e then return {2} end
return describe(0, ARGV[6], e)
