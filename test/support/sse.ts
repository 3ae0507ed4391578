import http from 'node:http';

/** One server-sent event as a client sees it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal EventSource over node:http for tests: collects events and comments, can stop reading
 * (pause: the socket's buffers fill, as a stalled viewer's do) and reports when the server closes.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  closed = false;
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private buffer = '';

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      c.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        c.res = res;
        c.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => c.feed(chunk));
        const done = () => void (c.closed = true);
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
        resolve(c);
      });
      c.req.on('error', (err) => (c.res ? void (c.closed = true) : reject(err)));
    });
  }

  get contentType(): string {
    return String(this.res?.headers['content-type'] ?? '');
  }

  private feed(chunk: string) {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      const ev: SseEvent = { event: 'message', data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        else if (line.startsWith('id: ')) ev.id = line.slice(4);
        else if (line.startsWith('event: ')) ev.event = line.slice(7);
        else if (line.startsWith('data: ')) {
          ev.data += (hasData ? '\n' : '') + line.slice(6);
          hasData = true;
        }
      }
      if (hasData) this.events.push(ev);
    }
  }

  /** The events' data of one type, parsed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of the stream, asserted field by field
  of(type: string): any[] {
    return this.events.filter((e) => e.event === type).map((e) => JSON.parse(e.data));
  }

  get lastId(): string | undefined {
    return this.events.at(-1)?.id;
  }

  /** Stops reading: the server's writes pile up in the socket buffers, then in its own queue. */
  pause(): void {
    this.res?.pause();
  }

  close(): void {
    this.req?.destroy();
    this.closed = true;
  }
}
