import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from '../observability/logger';

/** Starts listening; resolves once the port is bound. */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.keepAliveTimeout = 65_000;
    server.on('error', reject);
  });
}

/** Stops accepting connections and waits for requests in flight, up to `graceMs`. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Waits `ms` while the server still answers (and /readyz says 503), so the endpoints
 * controller takes the pod out of the Service before its connections close.
 */
export async function drain(ms: number, log: Logger): Promise<void> {
  if (ms <= 0) return;
  log.info({ drainMs: ms }, 'draining: /readyz answers 503, requests are still served');
  await new Promise((resolve) => setTimeout(resolve, ms));
}
