import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Router } from 'express';
import { createApp } from '../../src/http/app';
import { listen } from '../../src/runtime/server';
import { testLogger } from '../support/env';

/** The platform's own Express app (JSON parsing, problem answers) with only `routers`, on a loopback port. */
export async function serveRouters(routers: Router[]): Promise<{ url: string; close(): Promise<void> }> {
  const app = createApp({ log: testLogger('auth'), maxBodyBytes: 16_384, readiness: () => [], isShuttingDown: () => false, routers });
  const server: Server = await listen(app, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A request with its status, body, and the headers a test looks at. */
export async function call(url: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.headers ?? {}) },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  // Tests read the fields they expect; a wrong shape fails their assertions.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return {
    status: res.status,
    body,
    contentType: res.headers.get('content-type') ?? '',
    wwwAuthenticate: res.headers.get('www-authenticate'),
  };
}
