import { randomToken } from '../shared/random';

/**
 * Purchase and ticket ids route themselves: `<eventId>.<zoneId>.<random>` for a purchase and
 * `<purchaseId>.<n>` for its n-th ticket, so any replica finds the record without an index,
 * and a re-send of the same purchase carries the same ticket ids. Event and zone ids never
 * contain a dot (they match ^[A-Za-z0-9_-]{1,64}$).
 */
export function newPurchaseId(eventId: string, zoneId: string): string {
  return `${eventId}.${zoneId}.${randomToken(12)}`;
}

export const ticketIdOf = (purchaseId: string, n: number) => `${purchaseId}.${n}`;

const ID = '[A-Za-z0-9_-]{1,64}';
const PURCHASE = new RegExp(`^(${ID})\\.(${ID})\\.([A-Za-z0-9_-]{16})$`);
const TICKET = new RegExp(`^((${ID})\\.(${ID})\\.[A-Za-z0-9_-]{16})\\.([1-9][0-9]{0,2})$`);

export function parsePurchaseId(id: string): { eventId: string; zoneId: string } | undefined {
  const m = PURCHASE.exec(id);
  return m ? { eventId: m[1]!, zoneId: m[2]! } : undefined;
}

export function parseTicketId(id: string): { purchaseId: string; eventId: string; zoneId: string; n: number } | undefined {
  const m = TICKET.exec(id);
  return m ? { purchaseId: m[1]!, eventId: m[2]!, zoneId: m[3]!, n: Number(m[4]) } : undefined;
}
