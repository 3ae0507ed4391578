import { Pool } from 'undici';
import type { HttpCall, Seat } from '../scenarios';

/** What the driver keeps of one answer: enough to check the run, nothing more. */
export interface Outcome {
  /** HTTP status; 0 when the request failed without an answer. */
  status: number;
  /** Problem code of an error answer. */
  code?: string;
  purchaseId?: string;
  /** The tickets a 201 answer sold, one per seat. */
  tickets?: { ticketId: string; row: string; column: number }[];
  /** Seats a SEATS_TAKEN answer named as taken. */
  taken?: Seat[];
  error?: string;
}

interface AnswerBody {
  code?: string;
  purchaseId?: string;
  ticketId?: string;
  row?: string;
  column?: number;
  tickets?: { ticketId: string; row: string; column: number }[];
  seats?: Seat[];
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * A keep-alive HTTP client (undici Pool) turning answers into Outcomes. Given several servers
 * (api replicas behind no load balancer, bench/topology.ts), it sends to each in turn and splits
 * the connections between them.
 */
export class LoadClient {
  private readonly pools: Pool[];
  private turn = 0;
  readonly baseUrl: string;

  constructor(baseUrls: string | readonly string[], connections: number) {
    const urls = typeof baseUrls === 'string' ? [baseUrls] : baseUrls;
    this.baseUrl = urls[0]!;
    this.pools = urls.map(
      (url) =>
        new Pool(url, {
          connections: Math.max(1, Math.ceil(connections / urls.length)),
          pipelining: 1,
          keepAliveTimeout: 60_000,
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        }),
    );
  }

  async send(call: HttpCall): Promise<Outcome> {
    const pool = this.pools[this.turn++ % this.pools.length]!;
    try {
      const res = await pool.request({
        method: call.method,
        path: call.path,
        ...(call.body === undefined ? {} : { body: call.body, headers: JSON_HEADERS }),
      });
      const status = res.statusCode;
      // Reads are only counted; their bodies are not needed.
      if (status === 200) {
        await res.body.dump();
        return { status };
      }
      const text = await res.body.text();
      return parseAnswer(status, text);
    } catch (err) {
      return { status: 0, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}

export function parseAnswer(status: number, text: string): Outcome {
  let body: AnswerBody;
  try {
    body = JSON.parse(text) as AnswerBody;
  } catch {
    return { status, error: `not JSON: ${text.slice(0, 120)}` };
  }
  if (status === 201) {
    const tickets =
      body.tickets ?? (body.ticketId ? [{ ticketId: body.ticketId, row: String(body.row), column: Number(body.column) }] : []);
    return {
      status,
      ...(body.purchaseId ? { purchaseId: body.purchaseId } : {}),
      tickets: tickets.map((t) => ({ ticketId: t.ticketId, row: t.row, column: t.column })),
    };
  }
  return {
    status,
    ...(body.code ? { code: body.code } : {}),
    ...(body.purchaseId ? { purchaseId: body.purchaseId } : {}),
    ...(body.code === 'SEATS_TAKEN' && Array.isArray(body.seats) ? { taken: body.seats } : {}),
  };
}
