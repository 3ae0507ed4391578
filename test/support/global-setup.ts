import net from 'node:net';
import { loadConfig } from '../../src/config/config';

/** host:port of each service the integration tests need, from the same variables the platform reads. */
function serviceAddresses(): [name: string, host: string, port: number][] {
  const cfg = loadConfig(process.env);
  const fromUrl = (name: string, url: string, defaultPort: number): [string, string, number] => {
    const u = new URL(url);
    return [name, u.hostname.replace(/^\[|\]$/g, ''), Number(u.port || defaultPort)];
  };
  const [host = '127.0.0.1', port = '9092'] = cfg.KAFKA_BROKERS.split(',')[0]!.split(':');
  return [
    fromUrl('redis', cfg.REDIS_URL, 6379),
    ['kafka', host, Number(port)],
    ...(cfg.DYNAMODB_ENDPOINT ? [fromUrl('dynamodb', cfg.DYNAMODB_ENDPOINT, 443)] : []),
    fromUrl('mysql', cfg.MYSQL_URL, 3306),
  ];
}

/**
 * Integration project only (jest.config.js): fails fast, with the command to run, when a
 * service the tests need is not reachable. Unit tests (*.unit.test.ts) run without it.
 */
export default async function globalSetup(): Promise<void> {
  const down: string[] = [];
  await Promise.all(
    serviceAddresses().map(
      ([name, host, port]) =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, host);
          s.once('connect', () => (s.destroy(), resolve()));
          s.once('error', () => (down.push(`${name} at ${host}:${port}`), resolve()));
        }),
    ),
  );
  if (down.length > 0) {
    throw new Error(
      `Services not reachable: ${down.join(', ')}. Run \`npm run services:up\` (npm test and npm run test:integration do it for you), ` +
        'or run only the tests that need no service: `npm run test:unit`.',
    );
  }
}
