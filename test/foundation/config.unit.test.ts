import { ConfigError, loadConfig } from '../../src/config/config';

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
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  test('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/PORT="x"[\s\S]*LOG_LEVEL="loud"/);
  });
});
