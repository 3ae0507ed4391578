import { ApiProblem } from './api';
import { h } from './dom';
import { href } from './router';

let moveFocus = false;

/** After the first page, each navigation moves focus to the new page's heading (screen readers announce it). */
export function focusHeadingsFromNowOn(): void {
  moveFocus = true;
}

/** The page's h1; focusable so navigation can move focus there. */
export function heading(text: string, ...extra: (Node | string)[]): HTMLHeadingElement {
  const el = h('h1', { tabindex: -1 }, text, ...extra);
  document.title = `${text} · Seat map`;
  if (moveFocus) queueMicrotask(() => el.isConnected && el.focus({ preventScroll: false }));
  return el;
}

export function loading(what: string): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, `Loading ${what}…`);
}

/** A failed page load: what went wrong and where to go next. */
export function failure(err: unknown, what: string): HTMLElement {
  const p = err instanceof ApiProblem ? err : undefined;
  const notFound = p?.status === 404;
  return h(
    'div',
    { class: 'panel error', role: 'alert' },
    h('h1', { tabindex: -1 }, notFound ? `${what} not found` : `Could not load ${what}`),
    h('p', {}, p ? p.message : String(err)),
    h(
      'p',
      {},
      notFound ? 'It may have been removed. ' : 'Reload the page to try again, or ',
      h('a', { href: href.events() }, 'go back to the event list'),
      '.',
    ),
  );
}
