--[[
  live-append: the lease holder appends one coalesced change event to a zone's change log and
  stores the picture (sold + held bitmaps) as of that event, in one call; or (empty change)
  writes the first picture of a log that has none. The seq is the stream entry id `<seq>-0`, so
  the log's order is the seq order and a reader resumes with XREAD after `<seq>-0`.

  KEYS[1] lease    string: the holder's token (live-lease.lua)
  KEYS[2] seq      string: the last seq handed out
  KEYS[3] log      stream: entries `<seq>-0` with field `c` = the change event (JSON)
  KEYS[4] picture  hash: seq, taken (bitmap), held (bitmap), at (ms)
  ARGV[1] token    the caller's lease token
  ARGV[2] maxlen   entries kept in the log (approximate trim)
  ARGV[3] ttl      ms the log, seq and picture live after the last write (a zone nobody watches is forgotten)
  ARGV[4] taken    the zone bitmap as the caller read it (bit = 1: held or sold)
  ARGV[5] held     the held bitmap in the same layout
  ARGV[6] now      ms
  ARGV[7] change   the change event without its seq, a JSON object body `"taken":[..],..`; '' = init only

  Returns: {1, seq} appended (or, init, the picture's seq); {0} the lease is not the caller's:
  nothing written; {2, seq} init asked but a picture exists (load it instead).
  A new log's seq starts at `now`, not 0: a log recreated after its keys expired or were lost
  never reuses a seq a client still holds, so that client gets a fresh snapshot, never a wrong replay.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local ttl = ARGV[3]
local seq
if ARGV[7] == '' then
  local have = redis.call('HGET', KEYS[4], 'seq')
  if have then return {2, tonumber(have)} end
  seq = tonumber(redis.call('GET', KEYS[2]) or '0')
  if seq == 0 then
    seq = tonumber(ARGV[6])
    redis.call('SET', KEYS[2], seq)
  end
else
  seq = redis.call('INCR', KEYS[2])
  local body = '{"seq":' .. seq .. ',' .. ARGV[7] .. ',"at":' .. ARGV[6] .. '}'
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'c', body)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
redis.call('HSET', KEYS[4], 'seq', seq, 'taken', ARGV[4], 'held', ARGV[5], 'at', ARGV[6])
redis.call('PEXPIRE', KEYS[4], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, seq}
