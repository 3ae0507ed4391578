import type { ZoneDef } from '../../src/catalog/model';
import { Holds, type NewHold } from '../../src/inventory/holds';
import { Inventory, isTaken, type SeatPosition } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { InitZoneCode, type ScriptedRedis } from '../../src/commands/scripts';
import { testConfig, uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

/** A clock a test moves by hand, so expiry is tested without sleeping. */
export class TestClock {
  constructor(public now = Date.now()) {}
  readonly read = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export function zoneDef(rows: string[], seatCounts: number[], zoneId = 'z1'): ZoneDef {
  return { zoneId, name: 'Zone', rows, seatCounts, priceCents: 1000 };
}

/**
 * Everything one test file needs against the real Redis: its own key prefix (deleted at the end,
 * so files run in parallel and clean only what they made), a clock, and the layers under test.
 */
export function holdsHarness() {
  const redis: ScriptedRedis = testRedis();
  const prefix = testConfig().REDIS_KEY_PREFIX;
  const clock = new TestClock();
  const inventory = new Inventory(redis, prefix);
  const holds = new Holds(redis, prefix, clock.read);
  let n = 0;

  async function newZone(z: ZoneDef) {
    const eventId = uid('hold');
    expect((await inventory.initZone(eventId, z)).code).toBe(InitZoneCode.CREATED);
    return { eventId, layout: ZoneLayout.of(z), zone: z };
  }

  const holdId = (eventId: string, zoneId: string) => `${eventId}.${zoneId}.h${String(++n).padStart(16, '0')}`;
  const purchaseId = (eventId: string, zoneId: string) => `${eventId}.${zoneId}.${String(++n).padStart(16, '0')}`;

  /** A new hold's fields: expires in `seconds` (default 600), at most 7,200 s in total. */
  function newHold(eventId: string, zoneId: string, seconds = 600, buyer = ''): NewHold {
    return {
      holdId: holdId(eventId, zoneId),
      buyer,
      expiresAt: clock.now + seconds * 1000,
      maxUntil: clock.now + 7_200_000,
      info: '{"priceCents":1000,"currency":"USD"}',
    };
  }

  const seat = (layout: ZoneLayout, row: string, col: number): SeatPosition => layout.locate(row, col)!;

  async function takenOffsets(eventId: string, z: ZoneDef): Promise<Set<number>> {
    const st = (await inventory.zoneState(eventId, z.zoneId))!;
    const layout = ZoneLayout.of(z);
    return new Set([...Array(layout.capacity).keys()].filter((k) => isTaken(st.bits, k)));
  }

  /**
   * Counters equal the popcount (zone and every row), and every held-by entry names a HELD hold
   * that lists the seat, whose bit is set.
   */
  async function expectConsistent(eventId: string, z: ZoneDef): Promise<void> {
    const st = (await inventory.zoneState(eventId, z.zoneId))!;
    const layout = ZoneLayout.of(z);
    const rowTaken = z.rows.map(() => 0);
    let taken = 0;
    for (let k = 0; k < layout.capacity; k++) {
      if (!isTaken(st.bits, k)) continue;
      taken++;
      const s = layout.seatAt(k);
      rowTaken[layout.locate(s.row, s.column)!.rowIdx]!++;
    }
    expect(await redis.bitcount(inventory.keys(eventId, z.zoneId).bits)).toBe(taken);
    expect(st.available).toBe(layout.capacity - taken);
    expect(st.rowAvailable).toEqual(z.seatCounts.map((c, r) => c - rowTaken[r]!));
    for (const [offset, id] of await holds.heldSeats(eventId, z.zoneId)) {
      const h = await holds.get(id);
      expect({ offset, status: h?.status, listed: h?.seats.some((s) => s.offset === offset), taken: isTaken(st.bits, offset) }).toEqual({
        offset,
        status: 'held',
        listed: true,
        taken: true,
      });
    }
  }

  async function close(): Promise<void> {
    await dropKeyPrefix(redis, prefix);
    await redis.quit();
  }

  return { redis, prefix, clock, inventory, holds, newZone, holdId, purchaseId, newHold, seat, takenOffsets, expectConsistent, close };
}
