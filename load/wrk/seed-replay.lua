-- wrk script: the load lab's seed replay (load/scenarios/seed-replay.ts) for a purchase ceiling.
--   wrk -t2 -c1000 -d300s --latency --timeout 30s -s load/wrk/seed-replay.lua <url> -- <eventId> <threads> [zones] [duplicateRatio]
-- Every seat of <zones> zones (rows A–Z, 30 seats a row) once plus duplicateRatio × seats duplicates,
-- shuffled, alternating POST /ticket?venueId&eventId&zoneId&row&column&userId (the prototype's JMeter
-- route) and POST /api/v1/tickets (JSON), like the Node driver. The venue is "V"..eventId, as the load
-- lab's fixtures name it (load/driver/fixtures.ts). Each thread sends its own stripe of the list.
--
-- wrk runs for a duration, not a count: once a thread's stripe is sent, its free connections send
-- GET /healthz (200, which no purchase answers) until the stripe's last answer is in, then the thread
-- stops and says so on stderr (WRK_THREAD_DONE); bench/wrk.ts then ends wrk with SIGINT, as wrk's
-- main thread would otherwise sleep out the whole -d. A purchase wrk lost (a socket error: wrk reconnects and never re-sends it) would keep the
-- thread waiting, so it also stops after STALL_US without a purchase answer once all are sent.
-- done() prints one "WRK_RESULT {json}" line: the purchase answers by status, how many were sent,
-- and the time from the first purchase sent to the last answered (wrk's own totals and latency
-- percentiles also count the /healthz fillers). Purchases sell seats: use a fresh event per run.
-- Correctness is the Node driver's job (it checks every answer against the stores); this is a ceiling.

local ROWS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local SEATS_PER_ROW = 30
local STALL_US = 3e6

-- A monotonic wall clock in µs (LuaJIT's FFI; os.time() has only seconds), comparable across threads.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } seed_replay_timespec;
  int clock_gettime(int clock, seed_replay_timespec *ts);
]]
local timespec = ffi.new("seed_replay_timespec")
local function now_us()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- Per-thread state (each thread has its own Lua state).
local queue, sent, answered = {}, 0, 0
local filler, stopped
-- wrk calls thread 0's request() once before the run to check the script (script_verify_request)
-- and never sends that request: hand it the first purchase without counting it as sent.
local verified
-- Globals, read by done() through thread:get.
statuses = {}
share, firstSentUs, lastAnsweredUs = 0, 0, 0

function init(args)
  local eventId = args[1]
  local nthreads = tonumber(args[2] or "")
  if not eventId or not nthreads then
    error("seed-replay.lua needs: -- <eventId> <threads> [zones=100] [duplicateRatio=1.1]")
  end
  local zones = tonumber(args[3] or "100")
  local ratio = tonumber(args[4] or "1.1")
  local venueId = "V" .. eventId
  local seats = {}
  for z = 1, zones do
    for r = 1, #ROWS do
      for c = 1, SEATS_PER_ROW do
        seats[#seats + 1] = { tostring(z), ROWS:sub(r, r), c }
      end
    end
  end
  local all = {}
  for i = 1, #seats do all[i] = seats[i] end
  -- Same seed in every thread: the threads agree on the list and each takes its stripe.
  math.randomseed(1)
  local duplicates = math.floor(#seats * ratio + 0.5)
  for _ = 1, duplicates do all[#all + 1] = seats[math.random(#seats)] end
  for i = #all, 2, -1 do
    local j = math.random(i)
    all[i], all[j] = all[j], all[i]
  end
  local json = { ["Content-Type"] = "application/json" }
  local qv, qe = urlencode(venueId), urlencode(eventId)
  for i = 1, #all do
    if (i - 1) % nthreads == tid then
      local s, user = all[i], "replay" .. (i - 1)
      local req
      if (i - 1) % 2 == 0 then
        req = wrk.format("POST", "/ticket?venueId=" .. qv .. "&eventId=" .. qe .. "&zoneId=" .. urlencode(s[1]) ..
          "&row=" .. s[2] .. "&column=" .. s[3] .. "&userId=" .. user)
      else
        req = wrk.format("POST", "/api/v1/tickets", json, string.format(
          '{"venueId":"%s","eventId":"%s","zoneId":"%s","row":"%s","column":%d,"userId":"%s"}',
          venueId, eventId, s[1], s[2], s[3], user))
      end
      queue[#queue + 1] = req
    end
  end
  share = #queue
  filler = wrk.format("GET", "/healthz")
  verified = tid ~= 0
end

local function finish()
  if stopped then return end
  stopped = true
  wrk.thread:stop()
  -- wrk's main thread sleeps the whole -d regardless: bench/wrk.ts sends SIGINT once every thread said this.
  io.stderr:write("WRK_THREAD_DONE\n")
end

function request()
  if not verified then
    verified = true
    return queue[1] or filler
  end
  if sent < share then
    if sent == 0 then firstSentUs = now_us() end
    sent = sent + 1
    return queue[sent]
  end
  return filler
end

function response(status)
  if status ~= 200 then -- 200 is a /healthz filler
    statuses[status] = (statuses[status] or 0) + 1
    answered = answered + 1
    lastAnsweredUs = now_us()
    if answered >= share then finish() end
  elseif sent >= share and now_us() - lastAnsweredUs > STALL_US then
    finish() -- the rest of the stripe is lost
  end
end

function done(summary)
  local byStatus, total, planned, first, last = {}, 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses") or {}) do
      byStatus[tostring(code)] = (byStatus[tostring(code)] or 0) + n
      total = total + n
    end
    planned = planned + t:get("share")
    local f, l = t:get("firstSentUs"), t:get("lastAnsweredUs")
    if f > 0 and f < first then first = f end
    if l > last then last = l end
  end
  local parts = {}
  for code, n in pairs(byStatus) do parts[#parts + 1] = string.format('"%s":%d', code, n) end
  local duration = first < last and (last - first) or summary.duration
  io.write(string.format('WRK_RESULT {"purchases":%d,"planned":%d,"durationUs":%d,"statuses":{%s}}\n',
    total, planned, duration, table.concat(parts, ",")))
end
