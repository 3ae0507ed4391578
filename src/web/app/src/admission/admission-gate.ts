import { api, type EventDetail } from '../api';
import { h, setText } from '../dom';
import { Countdown, formatRemaining } from '../checkout/countdown';
import { href } from '../router';
import { admissions } from './admission-store';
import { waitingRoomView } from './waiting-room';

/**
 * Route guard of the event and zone pages (docs/admission.md): an open event renders at once; a
 * queued event renders only with a live admission, else its waiting room first, which moves on
 * to the seat map by itself when admitted (the zone asked for, or the event's first zone). While
 * admitted, `banner` shows the admission session's countdown.
 */
export async function withAdmission(
  root: HTMLElement,
  banner: HTMLElement,
  signal: AbortSignal,
  eventId: string,
  zoneId: string | undefined,
  render: () => void,
): Promise<void> {
  banner.replaceChildren();
  let ev: EventDetail;
  try {
    ev = await api.event(eventId, signal);
  } catch {
    // The view reports the failure itself.
    return render();
  }
  if (signal.aborted) return;
  if (ev.admission?.mode !== 'queue') return render();
  const rejoin = () => void withAdmission(root, banner, signal, eventId, zoneId, render);
  if (admissions.get(eventId)) {
    showSession(banner, signal, ev, rejoin);
    return render();
  }
  await waitingRoomView(root, signal, ev, () => {
    if (signal.aborted) return;
    showSession(banner, signal, ev, rejoin);
    // Admitted from the event's page: straight to the seat map of its first zone (the zone switch is there).
    if (zoneId) render();
    else location.hash = href.zone(eventId, ev.zones[0]?.zoneId ?? '');
  });
}

/** The admission session's countdown; when it ends (time, purchase, refusal) the page offers the waiting room again. */
function showSession(banner: HTMLElement, signal: AbortSignal, ev: EventDetail, rejoin: () => void): void {
  const a = admissions.get(ev.eventId);
  if (!a) return;
  const time = h('strong', { class: 'session-left' }, formatRemaining(a.expiresAt - Date.now()));
  const text = h('span', {}, 'You are admitted: your admission ends in ', time, '.');
  const again = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Join the waiting room again');
  again.addEventListener('click', rejoin);
  const box = h('div', { class: 'admission-banner', role: 'region', 'aria-label': 'Admission session' }, text, ' ', again);
  banner.replaceChildren(box);
  const over = (why: string) => {
    countdown.stop();
    box.classList.add('ended');
    setText(text, why);
    again.hidden = false;
  };
  const countdown = new Countdown(
    (left) => setText(time, formatRemaining(left)),
    () => admissions.ended(ev.eventId, 'timeout'),
  );
  countdown.start(a.expiresAt);
  const off = admissions.onEnded((eventId, why) => {
    if (eventId !== ev.eventId) return;
    over(
      why === 'purchased'
        ? 'You bought: your admission has ended. Join the waiting room again to buy more.'
        : why === 'timeout'
          ? 'Your admission session has ended.'
          : 'Your admission has ended.',
    );
  });
  signal.addEventListener(
    'abort',
    () => {
      countdown.stop();
      off();
      banner.replaceChildren();
    },
    { once: true },
  );
}
