/** Hash routes, so back/forward work and any view can be bookmarked without server routing. */
export type Route =
  | { view: 'events' }
  | { view: 'event'; eventId: string }
  | { view: 'zone'; eventId: string; zoneId: string }
  | { view: 'venue'; venueId: string }
  | { view: 'me' }
  | { view: 'not-found'; hash: string };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(safeDecode);
  const [a, b, c, d, ...rest] = parts;
  if (parts.length === 0) return { view: 'events' };
  if (a === 'events' && b && c === undefined) return { view: 'event', eventId: b };
  if (a === 'events' && b && c === 'zones' && d && rest.length === 0) return { view: 'zone', eventId: b, zoneId: d };
  if (a === 'venues' && b && c === undefined) return { view: 'venue', venueId: b };
  if (a === 'me' && b === undefined) return { view: 'me' };
  return { view: 'not-found', hash };
}

const seg = encodeURIComponent;

export const href = {
  events: () => '#/',
  event: (eventId: string) => `#/events/${seg(eventId)}`,
  zone: (eventId: string, zoneId: string) => `#/events/${seg(eventId)}/zones/${seg(zoneId)}`,
  venue: (venueId: string) => `#/venues/${seg(venueId)}`,
  me: () => '#/me',
};

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
