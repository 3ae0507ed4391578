--[[
  queue-lib: functions shared by the waiting-room scripts (queue-join, queue-pump, queue-end,
  queue-hold), prepended to each (src/commands/scripts.ts). docs/admission.md describes the model.

  Every queue script takes the same eight keys, all on the event's hash tag {q:<eventId>}
  (src/admission/keys.ts), so it runs unchanged on Redis Cluster:
  KEYS[1] buyers   hash: buyer -> queueId of the buyer's current visit
  KEYS[2] entries  hash: queueId -> JSON {b buyer, s state (w waiting | a admitted | e ended),
                   j join sequence, t joined at (ms), p 1 if joined in the pre-queue, a admitted at,
                   x session end (ms), k jti of the admission, r end reason, z ended at,
                   h {holdId: expiresAt} the session's live holds}
  KEYS[3] wait     sorted set: queueId -> place (a pre-queue join: a uniform random draw in [0, 1);
                   after the opening: its join sequence, >= 1, so first come first served)
  KEYS[4] active   sorted set: queueId -> session end (ms) of every admitted session
  KEYS[5] holds    sorted set: queueId -> latest expiry (ms) of the session's holds
  KEYS[6] stats    hash: seq (joins), admitted, ended
  KEYS[7] recent   list: admission times (ms) of the latest 100 admissions, newest first
  KEYS[8] order    list: queueIds in admission order (the fairness checks read it)

  Common ARGV (the event's settings, from the catalog): ARGV[1] now (ms), ARGV[2] activeBuyers,
  ARGV[3] session length (ms), ARGV[4] sales opening (ms; 0 = none), ARGV[5] key TTL (ms).
]]
local now, cap, session_ms, opens_at, ttl_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
-- At most this many admissions per script run, so one run never blocks Redis for long; the pump
-- runs again at once when a run was full.
local MAX_ADMIT = 500

local function entry(qid)
  local raw = redis.call('HGET', KEYS[2], qid)
  if raw then return cjson.decode(raw) end
  return nil
end

local function put(qid, e)
  redis.call('HSET', KEYS[2], qid, cjson.encode(e))
end

-- Keeps the given keys (indexes into KEYS) alive ttl_ms after this change.
local function touch(...)
  for _, i in ipairs({ ... }) do redis.call('PEXPIRE', KEYS[i], ttl_ms) end
end

local function end_session(qid, e, reason)
  e.s = 'e'
  e.r = reason
  e.z = now
  e.h = nil
  put(qid, e)
  redis.call('ZREM', KEYS[4], qid)
  redis.call('ZREM', KEYS[5], qid)
  redis.call('HINCRBY', KEYS[6], 'ended', 1)
  touch(2, 4, 5, 6)
end

-- The sessions of a sorted set (score: when they end) that are due now, ended for `reason`.
local function expire_due(key, reason)
  local ended = 0
  for _, qid in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, MAX_ADMIT)) do
    local e = entry(qid)
    if e and e.s == 'a' then
      end_session(qid, e, reason)
      ended = ended + 1
    else
      redis.call('ZREM', key, qid)
    end
  end
  return ended
end

-- Sessions past their end, and sessions whose holds all ended: ended. Returns how many.
local function expire()
  return expire_due(KEYS[4], 'timeout') + expire_due(KEYS[5], 'holds-ended')
end

-- Admits the first in line while fewer than activeBuyers sessions are active (never before the
-- opening). Returns {queueId, waited ms, ...} of the buyers admitted.
local function admit()
  local out = {}
  if now < opens_at then return out end
  local room = math.min(cap - redis.call('ZCARD', KEYS[4]), MAX_ADMIT)
  while room > 0 do
    local popped = redis.call('ZPOPMIN', KEYS[3])
    if #popped == 0 then break end
    local qid = popped[1]
    local e = entry(qid)
    if e and e.s == 'w' then
      local n = redis.call('HINCRBY', KEYS[6], 'admitted', 1)
      e.s = 'a'
      e.a = now
      e.x = now + session_ms
      e.k = qid .. '.' .. n
      put(qid, e)
      redis.call('ZADD', KEYS[4], e.x, qid)
      redis.call('RPUSH', KEYS[8], qid)
      redis.call('LPUSH', KEYS[7], now)
      redis.call('LTRIM', KEYS[7], 0, 99)
      out[#out + 1] = qid
      out[#out + 1] = now - math.max(e.t, opens_at)
      room = room - 1
    end
  end
  if #out > 0 then touch(2, 3, 4, 6, 7, 8) end
  return out
end

-- A queue entry as the scripts answer it: {code, queueId, state, position, jti, session end,
-- buyer, end reason, prequeue, recent admissions, newest, oldest, active}.
local function describe(code, qid, e)
  local position = 0
  if e.s == 'w' then
    local rank = redis.call('ZRANK', KEYS[3], qid)
    position = rank and (rank + 1) or 0
  end
  local n = redis.call('LLEN', KEYS[7])
  return {
    code, qid, e.s, position, e.k or '', e.x or 0, e.b, e.r or '', e.p or 0,
    n, tonumber(redis.call('LINDEX', KEYS[7], 0) or 0), tonumber(redis.call('LINDEX', KEYS[7], -1) or 0),
    redis.call('ZCARD', KEYS[4]),
  }
end
