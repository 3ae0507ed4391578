--[[
  queue-end: ends an admission session (the buyer bought) and admits the next buyer in line in
  the same step (docs/admission.md, "Admission follows reality").

  KEYS: the eight queue keys (queue-lib.lua).
  ARGV[1..5]: now, activeBuyers, session ms, sales opening ms, key TTL ms (queue-lib.lua)
  ARGV[6] queueId
  ARGV[7] jti of the admission ('' = whichever is active)
  ARGV[8] reason (purchased)

  Returns {QueueCode.OK (0) | QueueCode.NOT_ACTIVE (3), queueId1, waited1 ms, ...} (admitted now).
]]
local qid = ARGV[6]
local e = entry(qid)
local code = 3
if e and e.s == 'a' and (ARGV[7] == '' or e.k == ARGV[7]) then
  end_session(qid, e, ARGV[8])
  code = 0
end
local out = { code }
for _, v in ipairs(admit()) do out[#out + 1] = v end
return out
