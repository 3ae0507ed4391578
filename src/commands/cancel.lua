--[[
  cancel: the first step of cancelling a confirmed purchase, before its TicketsCancelled event is
  produced. It marks the purchase record CANCELLING (field `cancel`) and files it in the zone's
  `cancelling` set, so the recovery sweep finishes it if this process dies; it frees no seat
  (release-cancelled.lua does, only after Kafka acknowledged the event). The record's `status`
  stays `confirmed`, so the purchase scripts (reserve.lua, confirm.lua) are unaffected.

  KEYS[1] purchase   hash of this purchase: status, body, reservedAt; cancel, cancelBody, cancellingAt
  KEYS[2] cancelling zone sorted set: purchaseId -> cancelling-since-or-last-claimed time (ms)
  ARGV[1] purchaseId
  ARGV[2] now (ms)
  ARGV[3] the TicketsCancelled event (JSON, opaque to the script)
  ARGV[4] the TicketPurchased body to re-create a record Redis no longer has (its TTL ended, or
          Redis lost it) from the stores, which hold the purchase as confirmed; '' = do not

  Returns {code, cancelBody}:
    {0, ARGV[3]}   CANCELLING: marked now; produce the event, then release
    {1, body}      ALREADY_CANCELLING: a cancel is under way (or its process died); finish it
                   with the stored event (re-producing it is harmless: consumers deduplicate)
    {2, body}      ALREADY_CANCELLED: done before; nothing changes
    {3, ''}        NOT_CONFIRMED: the purchase is still reserved (its outcome is open)
    {4, ''}        NO_RECORD: Redis has no record and no body was given to re-create it
    {5, ''}        VOIDED: a record an older version released; nothing was sold
]]
local h = redis.call('HMGET', KEYS[1], 'status', 'cancel', 'cancelBody')
local status, cancel = h[1], h[2]
if not status then
  if ARGV[4] == '' then return {4, ''} end
  redis.call('HSET', KEYS[1], 'status', 'confirmed', 'body', ARGV[4], 'reservedAt', ARGV[2], 'confirmedAt', ARGV[2])
  status = 'confirmed'
end
if cancel == 'cancelled' then return {2, h[3]} end
if cancel == 'cancelling' then return {1, h[3]} end
if status == 'reserved' then return {3, ''} end
if status == 'voided' then return {5, ''} end
redis.call('HSET', KEYS[1], 'cancel', 'cancelling', 'cancelBody', ARGV[3], 'cancellingAt', ARGV[2])
-- Open again until the seats are released, like a reserved record: it must not expire meanwhile.
redis.call('PERSIST', KEYS[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return {0, ARGV[3]}
