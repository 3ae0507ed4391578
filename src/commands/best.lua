--[[
  best: pick the best available seats of one zone and hold them, in one atomic call over the
  bitmap and the row counters (docs/purchase-state-machine.md, "Holds"). Preference:
    1. N adjacent seats in one row that leave no orphan (a single free seat stranded between the
       pick and a taken seat or the row's end), in the row closest to the stage (row index 0
       first), closest to the row's centre;
    2. N adjacent seats in one row even if they leave an orphan, same order;
    3. seats split across rows: rows closest to the stage first, in each row the longest free
       runs first, each block as close to the centre as it fits.
  Before picking it releases up to 100 holds of the zone that have expired. Then it holds what it
  picked exactly as hold.lua does. Needs hold-lib.lua (prepended by src/commands/scripts.ts).

  KEYS[1..6] as hold.lua: bits, counts, meta, held, held-until, hold (this hold)
  ARGV[1..7] as hold.lua: layout hash, holdId, now (ms), expiresAt (ms), maxUntil (ms), buyer, info
  ARGV[8]    count: seats wanted (>= 1)
  ARGV[9..]  seats in each row, one per row (the layout the hash names)

  Returns {code, ...} (HoldCode in src/commands/scripts.ts):
    {0, available, expiresAt, offset1, offset2, ...}  OK: held these seats (bit offsets)
    {2}            SOLD_OUT: no seat left
    {4}            NO_INVENTORY
    {5}            LAYOUT_MISMATCH: stale layout hash, or the row list does not match it
    {6}            DUPLICATE: holdId exists and is not HELD (a fence tombstone included)
    {7, left}      NOT_ENOUGH_SEATS: fewer free seats than asked; `left` are free
    {12}           ZONE_CLOSED
    {15}               REBUILDING: the zone is fenced until re-marked (see reserve.lua); nothing changed
  A re-run for a holdId that is HELD answers its seats and changes nothing.
]]
local Z = {bits = KEYS[1], counts = KEYS[2], held = KEYS[4], until_ = KEYS[5]}
local existing = redis.call('HMGET', KEYS[6], 'status', 'expiresAt', 'seats')
if existing[1] == 'held' then
  local reply = {0, redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1], tonumber(existing[2])}
  local t = split_numbers(existing[3])
  for i = 1, #t, 2 do reply[#reply + 1] = t[i] end
  return reply
elseif existing[1] then
  return {6}
end
local meta = redis.call('HMGET', KEYS[3], 'layout', 'capacity', 'rows', 'closed', 'replid')
if not meta[1] then return {4} end
if not zone_trusted(meta[5]) then return {15} end
if meta[1] ~= ARGV[1] or tonumber(meta[3]) ~= #ARGV - 8 then return {5} end
if meta[4] then return {12} end
local now = tonumber(ARGV[3])
local n = tonumber(ARGV[8])

expire_due(Z, now, 100)
local available = redis.call('BITFIELD', KEYS[2], 'GET', 'u32', 0)[1]
if available == 0 then return {2} end
if available < n then return {7, available} end

local counts = redis.call('GET', KEYS[2])
local function row_free(r) -- r is 0-based
  local hi, lo = string.byte(counts, 5 + 2 * r, 6 + 2 * r)
  return (hi or 0) * 256 + (lo or 0)
end
-- Free runs of a row as {first, last} columns (0-based, inclusive), found with BITPOS over the
-- row's bit range (in C, two calls per run) rather than seat by seat in Lua.
local function runs_of(start, len)
  local runs = {}
  local pos, last = start, start + len - 1
  while pos <= last do
    local first = redis.call('BITPOS', KEYS[1], 0, pos, last, 'BIT')
    if first < 0 then break end
    local taken = redis.call('BITPOS', KEYS[1], 1, first, last, 'BIT')
    runs[#runs + 1] = {first - start, (taken < 0 and last or taken - 1) - start}
    if taken < 0 then break end
    pos = taken + 1
  end
  return runs
end
local function clamp(x, lo, hi)
  if x < lo then return lo elseif x > hi then return hi end
  return x
end
-- The window of m seats in run [a, b] of a row of len seats closest to the row's centre (twice
-- the distance, to stay in integers), optionally one that leaves no orphan on either side.
-- Only the windows next to the run's ends can orphan a seat, so the best one is the clamped
-- ideal, its close neighbours, or an end.
local function best_window(a, b, len, m, no_orphan)
  local lo, hi = a, b - m + 1
  if hi < lo then return nil end
  local ideal = clamp(math.floor((len - m) / 2), lo, hi)
  local best, best_d = nil, nil
  for _, w in ipairs({ideal - 2, ideal - 1, ideal, ideal + 1, ideal + 2, lo, hi}) do
    if w >= lo and w <= hi and not (no_orphan and (w - a == 1 or b - (w + m - 1) == 1)) then
      local d = math.abs(2 * w + m - len)
      if not best_d or d < best_d or (d == best_d and w < best) then best, best_d = w, d end
    end
  end
  return best, best_d
end

local rows = #ARGV - 8
local starts = {}
local offset = 0
for r = 0, rows - 1 do
  starts[r] = offset
  offset = offset + tonumber(ARGV[9 + r])
end

local pick_row, pick_w, fallback_row, fallback_w = nil, nil, nil, nil
for r = 0, rows - 1 do
  if row_free(r) >= n then
    local len = tonumber(ARGV[9 + r])
    local best_w, best_d, any_w, any_d = nil, nil, nil, nil
    for _, run in ipairs(runs_of(starts[r], len)) do
      local w, d = best_window(run[1], run[2], len, n, true)
      if w and (not best_d or d < best_d) then best_w, best_d = w, d end
      if not fallback_row then
        w, d = best_window(run[1], run[2], len, n, false)
        if w and (not any_d or d < any_d) then any_w, any_d = w, d end
      end
    end
    if best_w then
      pick_row, pick_w = r, best_w
      break
    end
    if any_w and not fallback_row then fallback_row, fallback_w = r, any_w end
  end
end
if not pick_row and fallback_row then pick_row, pick_w = fallback_row, fallback_w end

local t = {}
if pick_row then
  for c = pick_w, pick_w + n - 1 do
    t[#t + 1] = starts[pick_row] + c
    t[#t + 1] = pick_row
  end
else
  -- Split across rows: stage first; in each row the longest runs first.
  local left = n
  for r = 0, rows - 1 do
    if left == 0 then break end
    if row_free(r) > 0 then
      local len = tonumber(ARGV[9 + r])
      local runs = runs_of(starts[r], len)
      table.sort(runs, function(x, y)
        local lx, ly = x[2] - x[1], y[2] - y[1]
        if lx ~= ly then return lx > ly end
        return x[1] < y[1]
      end)
      for _, run in ipairs(runs) do
        if left == 0 then break end
        local m = math.min(left, run[2] - run[1] + 1)
        local w = best_window(run[1], run[2], len, m, false)
        for c = w, w + m - 1 do
          t[#t + 1] = starts[r] + c
          t[#t + 1] = r
        end
        left = left - m
      end
    end
  end
  -- The counters said enough seats were free; if the bitmap disagrees, refuse rather than guess.
  if left > 0 then return {7, n - left} end
end

local after = take_for_hold(Z, ARGV[2], t, {
  buyer = ARGV[6], now = now, expiresAt = ARGV[4], maxUntil = ARGV[5], info = ARGV[7],
})
local reply = {0, after, tonumber(ARGV[4])}
for i = 1, #t, 2 do reply[#reply + 1] = t[i] end
return reply
