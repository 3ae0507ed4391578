import type { SeatStreamSnapshot, StreamChange } from './api';

export interface SeatStreamHandlers {
  snapshot(map: SeatStreamSnapshot): void;
  change(change: StreamChange): void;
  /** The stream delivers (again): the page may stop polling. */
  up(): void;
  /** The stream failed or has been reconnecting for a while: the page polls until `up`. */
  down(): void;
}

/** How long EventSource may try to reconnect on its own before the page falls back to polling. */
const DOWN_AFTER_MS = 3000;
/** After the browser gave up (a 503, a refused stream), the page opens the stream again this late. */
const REOPEN_AFTER_MS = 15_000;

/**
 * The zone change stream through EventSource: a `snapshot`, then `change` events with a seq. The
 * browser reconnects with Last-Event-ID on its own; when it gives up (readyState CLOSED) the
 * stream is reopened later with `?lastEventId=` so no change is lost either way.
 */
export function openSeatStream(url: string, on: SeatStreamHandlers): () => void {
  let es: EventSource | undefined;
  let lastId: string | undefined;
  let downTimer: ReturnType<typeof setTimeout> | undefined;
  let reopenTimer: ReturnType<typeof setTimeout> | undefined;
  let isDown = false;
  let stopped = false;
  const markUp = () => {
    clearTimeout(downTimer);
    downTimer = undefined;
    if (isDown) on.up();
    isDown = false;
  };
  const markDown = () => {
    if (!isDown) on.down();
    isDown = true;
  };
  const open = () => {
    if (stopped) return;
    es = new EventSource(lastId ? `${url}?lastEventId=${encodeURIComponent(lastId)}` : url);
    es.addEventListener('snapshot', (e) => {
      lastId = e.lastEventId;
      markUp();
      on.snapshot(JSON.parse(e.data) as SeatStreamSnapshot);
    });
    es.addEventListener('change', (e) => {
      lastId = e.lastEventId;
      markUp();
      on.change(JSON.parse(e.data) as StreamChange);
    });
    es.addEventListener('open', () => lastId !== undefined && markUp());
    es.addEventListener('error', () => {
      if (es?.readyState === EventSource.CLOSED) {
        markDown();
        es.close();
        reopenTimer = setTimeout(open, REOPEN_AFTER_MS);
      } else downTimer ??= setTimeout(markDown, DOWN_AFTER_MS);
    });
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(downTimer);
    clearTimeout(reopenTimer);
    es?.close();
  };
}
