--[[
  queue-join: a buyer joins the event's waiting room (docs/admission.md, "Join"). Idempotent per
  buyer: while the buyer's visit is waiting or admitted, joining again answers that visit (same
  queueId, same place). After it ended (bought, holds ended, timed out), joining starts a new
  visit at the back of the line.

  KEYS: the eight queue keys (queue-lib.lua).
  ARGV[1..5]: now, activeBuyers, session ms, sales opening ms, key TTL ms (queue-lib.lua)
  ARGV[6] buyer
  ARGV[7] random draw in [0, 1) (the place of a pre-queue join: joins before the opening)
  ARGV[8] random suffix of a new queueId

  A join after the opening into an empty room is admitted in the same step.
  Returns describe(): {QueueCode.OK (0) | QueueCode.ALREADY_JOINED (1), queueId, state,
  position, jti, session end, buyer, end reason, prequeue, recent admissions, newest, oldest,
  active}, followed by {queueId, waited ms, ...} of the buyers this step admitted (the joiner
  included when there was room).
]]
local buyer = ARGV[6]
local admitted = {}
local function answer(reply)
  for _, v in ipairs(admitted) do reply[#reply + 1] = v end
  return reply
end
local qid = redis.call('HGET', KEYS[1], buyer)
if qid then
  local e = entry(qid)
  if e and e.s ~= 'e' then
    if e.s == 'a' and e.x <= now then
      end_session(qid, e, 'timeout')
      admitted = admit()
    else
      return describe(1, qid, e)
    end
  end
end
local seq = redis.call('HINCRBY', KEYS[6], 'seq', 1)
qid = seq .. '-' .. ARGV[8]
local pre = now < opens_at
local place = seq
if pre then place = tonumber(ARGV[7]) end
local e = { b = buyer, s = 'w', j = seq, t = now, p = pre and 1 or 0 }
put(qid, e)
redis.call('HSET', KEYS[1], buyer, qid)
redis.call('ZADD', KEYS[3], place, qid)
touch(1, 2, 3, 6)
for _, v in ipairs(admit()) do admitted[#admitted + 1] = v end
return answer(describe(0, qid, entry(qid)))
