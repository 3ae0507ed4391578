import client from 'prom-client';

/**
 * Every metric the platform exports. Names and labels are fixed in docs/contracts.md;
 * dashboards and CI checks read them from there.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metrics = {
  httpDuration: new client.Histogram({
    name: 'ticketing_http_request_duration_seconds',
    help: 'HTTP request duration by route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  purchaseAttempts: new client.Counter({
    name: 'ticketing_purchase_attempts_total',
    help: 'Purchase attempts by route and outcome',
    labelNames: ['route', 'outcome'] as const,
    registers: [registry],
  }),
  purchaseConflicts: new client.Counter({
    name: 'ticketing_purchase_conflicts_total',
    help: 'Purchases refused because seats were taken or the zone was sold out',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  purchaseDuration: new client.Histogram({
    name: 'ticketing_purchase_duration_seconds',
    help: 'Purchase latency from request to answer, by outcome',
    labelNames: ['outcome'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  kafkaProduceDuration: new client.Histogram({
    name: 'ticketing_kafka_produce_duration_seconds',
    help: 'Time for one batch produce to be acknowledged (acks=all)',
    buckets: latencyBuckets,
    registers: [registry],
  }),
  kafkaBatchSize: new client.Histogram({
    name: 'ticketing_kafka_produce_batch_size',
    help: 'Messages per produce request',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [registry],
  }),
  holds: new client.Counter({
    name: 'ticketing_holds_total',
    help: 'Hold state changes: created, expired (by the sweeper), released, converted (paid)',
    labelNames: ['transition'] as const,
    registers: [registry],
  }),
  pendingPurchases: new client.Gauge({
    name: 'ticketing_pending_purchases',
    help: 'Reserved purchases whose Kafka acknowledgement is not yet recorded',
    registers: [registry],
  }),
  consumerLag: new client.Gauge({
    name: 'ticketing_consumer_lag_messages',
    help: 'Messages between the consumer group committed offset and the log end',
    labelNames: ['group'] as const,
    registers: [registry],
  }),
  consumerMessages: new client.Counter({
    name: 'ticketing_consumer_messages_total',
    help: 'Messages handled by consumers, by outcome',
    labelNames: ['group', 'outcome'] as const,
    registers: [registry],
  }),
  ticketsStored: new client.Counter({
    name: 'ticketing_tickets_stored_total',
    help: 'Tickets newly written by the consumers, by store (writer: dynamodb, projector: mysql); its rate is tickets/s',
    labelNames: ['store'] as const,
    registers: [registry],
  }),
  readModelLag: new client.Histogram({
    name: 'ticketing_read_model_lag_seconds',
    help: 'Time from purchase confirmation to the ticket being visible in MySQL',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  }),
  eventCapacity: new client.Gauge({
    name: 'ticketing_event_seats_capacity',
    help: 'Seats in the event',
    labelNames: ['event_id'] as const,
    registers: [registry],
  }),
  eventSold: new client.Gauge({
    name: 'ticketing_event_seats_sold',
    help: 'Seats sold (taken in the live inventory)',
    labelNames: ['event_id'] as const,
    registers: [registry],
  }),
  auditSeats: new client.Gauge({
    name: 'ticketing_audit_seats',
    help: 'Sold seats per store at the last audit',
    labelNames: ['event_id', 'store'] as const,
    registers: [registry],
  }),
  auditDrift: new client.Gauge({
    name: 'ticketing_audit_drift_seats',
    help: 'Seats whose state differs between stores at the last audit',
    labelNames: ['event_id'] as const,
    registers: [registry],
  }),
  fencedZones: new client.Gauge({
    name: 'ticketing_inventory_fenced_zones',
    help: 'Zones refusing holds and sales (503 INVENTORY_REBUILDING) until re-marked after a Redis restart or failover',
    registers: [registry],
  }),
  zoneRemarks: new client.Counter({
    name: 'ticketing_inventory_zone_remarks_total',
    help: 'Zones re-marked from DynamoDB and the Kafka tail and unfenced after a Redis restart or failover',
    registers: [registry],
  }),
  auditLastCompletePass: new client.Gauge({
    name: 'ticketing_audit_last_complete_pass_timestamp_seconds',
    help: 'Unix time the controller last finished an audit pass over every event with no failed step (alert when it falls behind AUDIT_INTERVAL_MS)',
    registers: [registry],
  }),
  auditLastPassFailures: new client.Gauge({
    name: 'ticketing_audit_last_pass_failed_steps',
    help: 'Audit steps (per event: audit, compare with a store, repair, settle) that failed in the last pass',
    registers: [registry],
  }),
  liveViewers: new client.Gauge({
    name: 'ticketing_live_viewers',
    help: 'Seat map stream viewers connected to this process',
    registers: [registry],
  }),
  liveZones: new client.Gauge({
    name: 'ticketing_live_zones',
    help: 'Zones this process reads a change log for (one reader each, whatever the viewers)',
    registers: [registry],
  }),
  liveEventsSent: new client.Counter({
    name: 'ticketing_live_events_sent_total',
    help: 'Seat map stream events written to viewers, by type (snapshot, change, heartbeat)',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  liveViewersDropped: new client.Counter({
    name: 'ticketing_live_viewers_dropped_total',
    help: 'Stream viewers this process closed, by reason (slow: unsent bytes over LIVE_MAX_BUFFER_BYTES; limit: refused at LIVE_MAX_VIEWERS)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  liveLag: new client.Histogram({
    name: 'ticketing_live_lag_seconds',
    help: 'Time from a change event being appended to its zone log to this process writing it to its viewers',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  queueWaiting: new client.Gauge({
    name: 'ticketing_queue_waiting',
    help: 'Buyers waiting in an event’s waiting room, as this process’s pump last read it (every api process reports the same: take max)',
    labelNames: ['event_id'] as const,
    registers: [registry],
  }),
  queueActiveSessions: new client.Gauge({
    name: 'ticketing_queue_active_sessions',
    help: 'Admission sessions live in an event (never above its activeBuyers), as this process’s pump last read it (take max)',
    labelNames: ['event_id'] as const,
    registers: [registry],
  }),
  queueJoins: new client.Counter({
    name: 'ticketing_queue_joins_total',
    help: 'Queue joins by result: joined (a new place), rejoined (the same place answered again)',
    labelNames: ['event_id', 'result'] as const,
    registers: [registry],
  }),
  queueAdmitted: new client.Counter({
    name: 'ticketing_queue_admitted_total',
    help: 'Buyers admitted from a waiting room (counted once, by the process whose step admitted them); its rate is admissions/s',
    labelNames: ['event_id'] as const,
    registers: [registry],
  }),
  queueSessionsEnded: new client.Counter({
    name: 'ticketing_queue_sessions_ended_total',
    help: 'Admission sessions ended, by reason: purchased, holds-ended, timeout (timeout and expired holds: counted in bulk by the pump as reason "pump")',
    labelNames: ['event_id', 'reason'] as const,
    registers: [registry],
  }),
  queueWaitSeconds: new client.Histogram({
    name: 'ticketing_queue_wait_seconds',
    help: 'Time a buyer waited in line before admission (from the join, or the sales opening for the pre-queue)',
    labelNames: ['event_id'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  }),
  rateLimited: new client.Counter({
    name: 'ticketing_rate_limited_total',
    help: 'Requests refused with 429 RATE_LIMITED, by route (seed, purchases, holds, queue) and bucket (buyer, client)',
    labelNames: ['route', 'scope'] as const,
    registers: [registry],
  }),
};
