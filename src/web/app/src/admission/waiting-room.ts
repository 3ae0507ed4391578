import { ApiProblem, type EventDetail } from '../api';
import { h, setText } from '../dom';
import { count, plural } from '../format';
import { heading } from '../page';
import { poll } from '../poll';
import { href } from '../router';
import { formatRemaining } from '../checkout/countdown';
import { admissions } from './admission-store';
import { queueApi, type QueueJoin, type QueueStatus } from './queue-api';
import { waitText } from './wait-text';

/** The place is asked for this often: the next buyer is admitted within a second of a session ending. */
const POLL_MS = 1000;

/**
 * A queued event's waiting room (docs/admission.md): joins (or keeps the place of an earlier
 * join), then shows the place, the estimated wait and the progress since joining, polled every
 * second, until admitted; then `onAdmitted` moves on to the seat map.
 */
export async function waitingRoomView(root: HTMLElement, signal: AbortSignal, ev: EventDetail, onAdmitted: () => void): Promise<void> {
  const place = h('strong', { class: 'queue-place' }, '…');
  const wait = h('span', { class: 'queue-wait' });
  const bar = h('div', {
    class: 'queue-progress',
    role: 'progressbar',
    'aria-label': 'Progress in the waiting room',
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': 0,
  });
  const fill = h('span', { class: 'bar-fill' });
  bar.appendChild(fill);
  const note = h('p', { class: 'meta' });
  const status = h('p', { class: 'status', role: 'status' });
  const alert = h('div', { class: 'alert', role: 'alert' });
  root.replaceChildren(
    h(
      'nav',
      { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('a', { href: href.events() }, 'Events'),
      ' › ',
      h('span', { 'aria-current': 'page' }, ev.name),
    ),
    heading(`Waiting room: ${ev.name}`),
    h(
      'section',
      { class: 'panel waiting-room', 'aria-label': 'Your place in line' },
      h('p', { class: 'queue-line' }, 'You are number ', place, ' in line.'),
      h('p', {}, 'Estimated wait: ', wait),
      bar,
      note,
      h(
        'p',
        { class: 'help' },
        `At most ${plural(ev.admission?.activeBuyers ?? 0, 'buyer')} choose seats at a time; when it is your turn this page opens the seat map by itself and you have ${formatRemaining((ev.admission?.sessionSeconds ?? 0) * 1000)} to buy. Keep this page open: your place is kept if you reload.`,
      ),
      status,
      alert,
    ),
  );

  let first: number | undefined;
  const show = (a: QueueJoin | QueueStatus): boolean => {
    if (a.status === 'ADMITTED') {
      if (!a.admissionToken || !a.expiresAt) return false;
      admissions.admitted(ev.eventId, { queueId: a.queueId, token: a.admissionToken, expiresAt: Date.parse(a.expiresAt) });
      setText(status, 'It is your turn: opening the seat map.');
      onAdmitted();
      return true;
    }
    if (a.status === 'ENDED') return false;
    first ??= Math.max(1, a.position);
    setText(place, count(a.position));
    setText(wait, waitText(a.estimatedWaitSeconds));
    // The share of the line that was ahead at the first answer and has been admitted since.
    const done = Math.round(((first - a.position) / first) * 100);
    fill.style.width = `${done}%`;
    bar.setAttribute('aria-valuenow', String(done));
    bar.setAttribute('aria-valuetext', `number ${a.position} in line`);
    setText(
      note,
      a.prequeue && a.opensAt
        ? `Sales open at ${new Date(a.opensAt).toLocaleTimeString()}: everyone who joined before then gets a random place at the opening, so arriving early gains nothing.`
        : 'First come, first served.',
    );
    return false;
  };

  let queueId = admissions.queueId(ev.eventId);
  const join = async () => {
    const joined = await queueApi.join(ev.eventId);
    queueId = joined.queueId;
    admissions.placed(ev.eventId, queueId);
    return show(joined);
  };
  try {
    if (!queueId || (await statusOrEnded()) === 'ended') {
      if (await join()) return;
    }
  } catch (err) {
    if (!signal.aborted) setText(alert, err instanceof ApiProblem ? err.message : String(err));
    return;
  }

  /** Shows the stored place's state; 'ended' when it is over or unknown (then the buyer joins again). */
  async function statusOrEnded(): Promise<'ended' | 'shown' | 'admitted'> {
    try {
      const s = await queueApi.status(ev.eventId, queueId!, signal);
      if (s.status === 'ENDED') return 'ended';
      return show(s) ? 'admitted' : 'shown';
    } catch (err) {
      if (err instanceof ApiProblem && (err.status === 404 || err.status === 403)) return 'ended';
      throw err;
    }
  }

  const stop = poll(
    async () => {
      const r = await statusOrEnded();
      if (r === 'admitted') stop();
      else if (r === 'ended' && (await join())) stop();
      setText(alert, '');
    },
    {
      everyMs: POLL_MS,
      onError: (err) =>
        setText(alert, `Could not check your place (${err instanceof Error ? err.message : String(err)}); retrying. You keep your place.`),
    },
  );
  signal.addEventListener('abort', stop, { once: true });
}
