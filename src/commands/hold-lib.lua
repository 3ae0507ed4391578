--[[
  hold-lib: functions shared by the scripts that create, free or meet holds. Not a script of
  its own: src/commands/scripts.ts prepends it to hold.lua, best.lua, release.lua,
  expire.lua, convert.lua and reserve.lua when it registers them, so each stays one atomic call;
  and to init-zone.lua, restore-zone.lua, fence-status.lua and unfence.lua for the failover
  fence's one rule (node_replid, zone_trusted).

  Every function takes Z, the zone's keys:
    Z.bits    seat bitmap (bit = 1: taken, held or sold), row-major
    Z.counts  BITFIELD: u32 at #0 = zone available, u16 at bit 32 + 16*r = row r available
    Z.held    hash: seat offset -> holdId, for held seats only
    Z.until_  sorted set: holdId -> expiresAt (ms) of the zone's HELD holds
  A hold's record is the hash Z.held .. ':' .. holdId. It is not in the caller's KEYS (the id is
  read inside the script), but it carries the zone's hash tag like every key of Z, so it is in the
  same Redis Cluster slot.

  Hold record fields: status (held | expired | released | purchased | fenced), seats
  ("offset,row,offset,row,..."), buyer, createdAt, expiresAt, maxUntil, info
  (opaque JSON), endedAt, purchaseId.
]]
-- The replication id of the node running the script. It changes when this node's dataset may
-- have lost writes: a restart (AOF loses up to a second) or a replica promoted by a failover
-- (replication is asynchronous). A zone is trusted only while its meta's `replid` equals it
-- (docs/purchase-state-machine.md, "Failover fence"); init-zone, restore-zone and unfence set it.
local function node_replid()
  return string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
end

-- Whether the zone's state came from this node's current history; the `replid` field of its meta.
local function zone_trusted(meta_replid)
  return meta_replid ~= false and meta_replid == node_replid()
end

-- An ended hold stays readable this long (GET /api/v1/holds/{holdId} after expiry).
local HOLD_RECORD_TTL_SECONDS = 86400

local function hold_key(Z, id)
  return Z.held .. ':' .. id
end

local function split_numbers(s)
  local t = {}
  for n in string.gmatch(s, '[^,]+') do t[#t + 1] = tonumber(n) end
  return t
end

local function row_counter(row)
  return 32 + 16 * row
end

-- Frees the seats a hold still owns (bit set AND Z.held names this hold), restores the counters
-- by exactly the number of bits cleared, and ends the hold with `status`. Returns seats freed.
local function free_hold(Z, id, status, now)
  local key = hold_key(Z, id)
  local seats = redis.call('HGET', key, 'seats')
  local freed = 0
  if seats then
    local t = split_numbers(seats)
    local ops = {}
    for i = 1, #t, 2 do
      local offset, row = t[i], t[i + 1]
      if redis.call('HGET', Z.held, offset) == id then
        redis.call('HDEL', Z.held, offset)
        if redis.call('SETBIT', Z.bits, offset, 0) == 1 then
          freed = freed + 1
          ops[#ops + 1] = 'INCRBY'
          ops[#ops + 1] = 'u16'
          ops[#ops + 1] = row_counter(row)
          ops[#ops + 1] = 1
        end
      end
    end
    if freed > 0 then redis.call('BITFIELD', Z.counts, 'INCRBY', 'u32', 0, freed, unpack(ops)) end
    redis.call('HSET', key, 'status', status, 'endedAt', now)
    redis.call('EXPIRE', key, HOLD_RECORD_TTL_SECONDS)
  end
  redis.call('ZREM', Z.until_, id)
  return freed
end

-- Whether a hold record is HELD with expiresAt <= now.
local function hold_expired(Z, id, now)
  local h = redis.call('HMGET', hold_key(Z, id), 'status', 'expiresAt')
  return h[1] == 'held' and tonumber(h[2]) <= now, h[1]
end

-- Called on a taken seat: if its hold has expired, releases that whole hold (EXPIRED) and
-- returns true when the seat is free now. A Z.held entry whose hold is no longer HELD is stale
-- (the seat is sold or unknown): it is dropped and the seat stays taken.
local function release_if_expired(Z, offset, now)
  local id = redis.call('HGET', Z.held, offset)
  if not id then return false end
  local expired, status = hold_expired(Z, id, now)
  if status ~= 'held' then
    redis.call('HDEL', Z.held, offset)
    return false
  end
  if not expired then return false end
  free_hold(Z, id, 'expired', now)
  return redis.call('GETBIT', Z.bits, offset) == 0
end

-- Releases up to `limit` holds of the zone whose expiresAt <= now; returns the ids handled.
local function expire_due(Z, now, limit)
  local handled = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', Z.until_, '-inf', now, 'LIMIT', 0, limit)) do
    local expired, status = hold_expired(Z, id, now)
    if expired then
      free_hold(Z, id, 'expired', now)
      handled[#handled + 1] = id
    elseif status ~= 'held' then
      -- An index entry whose record is not HELD (lost, or ended without it): just drop it.
      redis.call('ZREM', Z.until_, id)
      handled[#handled + 1] = id
    else
      -- The index is behind the record (cannot happen: extend.lua moves both); follow the record.
      redis.call('ZADD', Z.until_, redis.call('HGET', hold_key(Z, id), 'expiresAt'), id)
    end
  end
  return handled
end

-- Checks the seats ARGV[from], ARGV[from + 1], … (pairs: bit offset, row index) of a request:
-- in the layout, none twice, none taken (a seat of an expired hold is released first, when Z is
-- given). Returns nil when all are free, else the script's refusal: {3, i} seat i is outside the
-- layout, {6} a seat repeats, {1, i1, i2, …} the 1-based indexes of the taken seats.
local function refuse_seats(Z, bits, capacity, rows, from, now)
  local seen = {}
  local taken = {}
  local n = 0
  for i = from, #ARGV, 2 do
    n = n + 1
    local offset = tonumber(ARGV[i])
    local row = tonumber(ARGV[i + 1])
    if offset == nil or row == nil or offset < 0 or offset >= capacity or row < 0 or row >= rows then
      return {3, n}
    end
    if seen[offset] then return {6} end
    seen[offset] = true
    if redis.call('GETBIT', bits, offset) == 1 and not (Z and release_if_expired(Z, offset, now)) then
      taken[#taken + 1] = n
    end
  end
  if #taken > 0 then return {1, unpack(taken)} end
  return nil
end

-- Whether the zone has a hold that expired but was not released yet.
local function has_expired_hold(Z, now)
  return #redis.call('ZRANGEBYSCORE', Z.until_, '-inf', now, 'LIMIT', 0, 1) > 0
end

-- Takes free seats for a new hold (flat list offset,row,...), counters as reserve.lua moves
-- them, and writes the hold record and its index entries. Returns the zone's seats available.
local function take_for_hold(Z, id, t, h)
  local ops = {'INCRBY', 'u32', 0, -(#t / 2)}
  for i = 1, #t, 2 do
    redis.call('SETBIT', Z.bits, t[i], 1)
    redis.call('HSET', Z.held, t[i], id)
    ops[#ops + 1] = 'INCRBY'
    ops[#ops + 1] = 'u16'
    ops[#ops + 1] = row_counter(t[i + 1])
    ops[#ops + 1] = -1
  end
  local after = redis.call('BITFIELD', Z.counts, unpack(ops))[1]
  redis.call('HSET', hold_key(Z, id),
    'status', 'held', 'seats', table.concat(t, ','), 'buyer', h.buyer, 'createdAt', h.now,
    'expiresAt', h.expiresAt, 'maxUntil', h.maxUntil, 'info', h.info)
  redis.call('ZADD', Z.until_, h.expiresAt, id)
  return after
end
