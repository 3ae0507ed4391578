--[[
  allowance-settle: steps 3 of a buyer's hold or purchase, and the other changes of an allowance
  entry (docs/purchase-state-machine.md, "Per-buyer limit"). One key: the buyer's allowance hash
  (see allowance-acquire.lua for the entry format).

  KEYS[1] allowance
  ARGV[1] entry id
  ARGV[2] action:
            hold      provisional -> h: counts until max(ARGV[5], the entry's floor)
            purchase  provisional -> b under the id ARGV[6] (the purchase id): counts for good
            drop      delete the entry (step 2 refused, or a fence said GONE)
            release   delete the entry if it is firm (h or b): a release or an expiry; a
                      provisional entry is left to the request (or resolution) that owns it
            cancel    delete the entry if it is bought (b), or provisional for the purchase
                      ARGV[6]: the purchase was confirmed and is now CANCELLED, so its zone step
                      happened and its seats are on sale again; the owner's late step 3 then
                      finds nothing (STALE) and changes nothing
            extend    raise the entry's until (h) or floor (p) to ARGV[5]: before extend.lua
  ARGV[3] token of the provisional entry (hold, purchase, drop); '' for release, cancel and extend
  ARGV[4] now (ms)
  ARGV[5] until (ms) for hold and extend
  ARGV[6] new entry id for purchase; the cancelled purchase id for cancel

  Returns (AllowanceCode): 0 done; 3 STALE: no such entry, or the token does not match (another
  request or a resolution settled it first): nothing changed
]]
local id, action, token = ARGV[1], ARGV[2], ARGV[3]
local raw = redis.call('HGET', KEYS[1], id)
if not raw then return 3 end
local e = cjson.decode(raw)
if action == 'release' then
  if e.s == 'p' then return 3 end
  redis.call('HDEL', KEYS[1], id)
  return 0
end
if action == 'cancel' then
  if e.s == 'h' or (e.s == 'p' and e.p ~= ARGV[6]) then return 3 end
  redis.call('HDEL', KEYS[1], id)
  return 0
end
if action == 'extend' then
  local to = tonumber(ARGV[5])
  if e.s == 'h' then e.u = math.max(e.u, to) end
  e.f = math.max(e.f or 0, to)
  redis.call('HSET', KEYS[1], id, cjson.encode(e))
  return 0
end
if e.s ~= 'p' or e.t ~= token then return 3 end
if action == 'drop' then
  redis.call('HDEL', KEYS[1], id)
elseif action == 'hold' then
  redis.call('HSET', KEYS[1], id, cjson.encode({n = e.n, s = 'h', u = math.max(tonumber(ARGV[5]), e.f or 0), k = 'hold', z = e.z, h = e.h, f = e.f}))
elseif action == 'purchase' then
  redis.call('HDEL', KEYS[1], id)
  redis.call('HSET', KEYS[1], ARGV[6], cjson.encode({n = e.n, s = 'b', u = 0, k = 'purchase', z = e.z, h = e.h, p = ARGV[6]}))
else
  return redis.error_reply('allowance-settle: unknown action ' .. tostring(action))
end
return 0
