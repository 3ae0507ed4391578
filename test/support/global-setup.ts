import net from 'node:net';

/** Fails fast, with the command to run, when the services the tests need are not up. */
export default async function globalSetup(): Promise<void> {
  const services = [
    ['redis', 6390],
    ['kafka', 9092],
    ['dynalite', 8000],
    ['mariadb', 3306],
  ] as const;
  const down: string[] = [];
  await Promise.all(
    services.map(
      ([name, port]) =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve()));
          s.once('error', () => (down.push(`${name}:${port}`), resolve()));
        }),
    ),
  );
  if (down.length > 0) throw new Error(`Services not reachable: ${down.join(', ')}. Run \`npm run services:up\` (npm test does it for you).`);
}
