import type { IncomingMessage } from 'node:http';

/**
 * The request body's bytes exactly as received, kept by the JSON parser (its `verify` hook) for
 * the routes that authenticate the bytes themselves: the payment webhook's signature is an HMAC
 * of the raw body, and re-serialising the parsed JSON would not give the same bytes. The buffer
 * is the one the parser read anyway, so keeping a reference costs no copy.
 */
const RAW_BODY = Symbol('rawBody');

type WithRawBody = IncomingMessage & { [RAW_BODY]?: Buffer };

/** express.json's `verify` option. */
export function keepRawBody(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  (req as WithRawBody)[RAW_BODY] = buf;
}

/** The raw body, or undefined when the request had none (or it was not JSON). */
export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return (req as WithRawBody)[RAW_BODY];
}
