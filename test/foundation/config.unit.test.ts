import { ConfigError, largestPurchaseRecordBytes, loadConfig } from '../../src/config/config';

describe('configuration', () => {
  test('defaults point at the local services', () => {
    const cfg = loadConfig({});
    expect(cfg).toMatchObject({
      PORT: 8080,
      METRICS_PORT: 9464,
      REDIS_URL: 'redis://127.0.0.1:6390',
      KAFKA_BROKERS: '127.0.0.1:9092',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      MYSQL_URL: 'mysql://root@127.0.0.1:3306/ticketing',
      ROLE: 'all',
    });
  });

  test.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6390'],
    ['KAFKA_BROKERS', 'host-without-port'],
    ['DYNAMODB_ENDPOINT', 'ftp://x'],
    ['MYSQL_URL', 'postgres://x/y'],
    ['ROLE', 'cashier'],
    ['MAX_SEATS_PER_PURCHASE', '0'],
    ['INVENTORY_BACKEND', 'mongo'],
    ['RATE_LIMIT_ROUTES', 'holds=0/40/200/400'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(
      new RegExp(`${name}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  test('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/PORT="x"[\s\S]*LOG_LEVEL="loud"/);
  });
});

describe('the largest purchase record fits one Kafka batch', () => {
  test('a batch limit below the largest record MAX_SEATS_PER_PURCHASE allows is refused, naming both variables', () => {
    expect(() => loadConfig({ MAX_SEATS_PER_PURCHASE: '100', KAFKA_MAX_BATCH_BYTES: '16384' })).toThrow(
      /KAFKA_MAX_BATCH_BYTES.*MAX_SEATS_PER_PURCHASE/s,
    );
    expect(
      loadConfig({ MAX_SEATS_PER_PURCHASE: '100', KAFKA_MAX_BATCH_BYTES: String(largestPurchaseRecordBytes(100)) }).MAX_SEATS_PER_PURCHASE,
    ).toBe(100);
  });

  test('the bound holds for a record with every id at its longest', () => {
    const id = (c: string) => c.repeat(64);
    const purchaseId = `${id('e')}.${id('z')}.${'p'.repeat(16)}`;
    const seats = 100;
    const record = {
      schemaVersion: 1,
      type: 'TicketPurchased',
      purchaseId,
      eventId: id('e'),
      venueId: id('v'),
      zoneId: id('z'),
      userId: 'u'.repeat(128),
      tickets: Array.from({ length: seats }, (_, i) => ({
        ticketId: `${purchaseId}.${i + 1}`,
        row: 'ZZZZZZZZ',
        column: 99999,
        priceCents: 2_147_483_647,
      })),
      currency: 'USD',
      createdOn: new Date().toISOString(),
    };
    const headers = { 'x-purchase-id': purchaseId, traceparent: `00-${'f'.repeat(32)}-${'f'.repeat(16)}-01`, 'x-resent': '1' };
    const bytes =
      Buffer.byteLength(JSON.stringify(record)) +
      Buffer.byteLength(`${record.eventId}:${record.zoneId}`) +
      Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 8, 0);
    expect(bytes).toBeLessThanOrEqual(largestPurchaseRecordBytes(seats));
  });
});
