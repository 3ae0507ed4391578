--[[
  queue-hold: keeps an admission session's holds (docs/admission.md): a hold made or extended is
  recorded with its expiry; a hold released is dropped, and a session left holding nothing ends,
  admitting the next buyer in the same step. Holds that expire end the session in queue-pump.

  KEYS: the eight queue keys (queue-lib.lua).
  ARGV[1..5]: now, activeBuyers, session ms, sales opening ms, key TTL ms (queue-lib.lua)
  ARGV[6] buyer
  ARGV[7] holdId
  ARGV[8] op: set | del
  ARGV[9] the hold's expiry (ms; op set)

  Returns {QueueCode.OK (0) | QueueCode.NOT_ACTIVE (3) | QueueCode.ENDED (4), queueId1, waited1, ...}:
  ENDED when the release left the session without holds (it ended; the ids were admitted now).
]]
local qid = redis.call('HGET', KEYS[1], ARGV[6])
local e = qid and entry(qid)
if not e or e.s ~= 'a' then return { 3 } end
local h = e.h or {}
if ARGV[8] == 'set' then
  h[ARGV[7]] = tonumber(ARGV[9])
elseif h[ARGV[7]] == nil then
  return { 3 }
else
  h[ARGV[7]] = nil
end
local latest = nil
for _, until_ms in pairs(h) do
  if not latest or until_ms > latest then latest = until_ms end
end
if not latest then
  end_session(qid, e, 'holds-ended')
  local out = { 4 }
  for _, v in ipairs(admit()) do out[#out + 1] = v end
  return out
end
e.h = h
put(qid, e)
redis.call('ZADD', KEYS[5], latest, qid)
touch(2, 5)
return { 0 }
