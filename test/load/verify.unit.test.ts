import { verifyRun, type InventoryView } from '../../load/driver/verify';
import { buildScenario, seatKey } from '../../load/scenarios';

/** The load lab's verdict (verifyRun) on made-up runs: it must pass an honest run and catch each lie. */
describe('load driver: the check itself', () => {
  const plan = buildScenario('hot-seat', 'test');
  const sold = (column: number, n: number) => ({ status: 201, purchaseId: `p${n}`, tickets: [{ ticketId: `p${n}.1`, row: 'A', column }] });
  const inventoryOf = (entries: [string, string | null][]): InventoryView => ({
    sold: new Map(entries),
    soldOutZones: new Set(),
    problems: [],
  });
  const honest = () => {
    // Seats 1..10 to the first buyer of each; everyone else a conflict naming the seat asked for.
    const winners = new Map<number, number>();
    const outcomes = plan.requests.map((r, i) => {
      const col = r.seats[0]!.column;
      if (!winners.has(col)) {
        winners.set(col, i);
        return sold(col, i);
      }
      return { status: 409, code: 'SEATS_TAKEN', taken: [{ row: 'A', column: col }] };
    });
    const stored: [string, string | null][] = [...winners].map(([col, i]) => [seatKey('1', { row: 'A', column: col }), `p${i}.1`]);
    return { outcomes, stored };
  };

  test('passes an honest run', () => {
    const { outcomes, stored } = honest();
    expect(verifyRun({ plan, setupOutcomes: [], outcomes, inventory: inventoryOf(stored) }).problems).toEqual([]);
  });

  test('fails when a seat is sold twice, the store misses a sale, or a conflict names a free seat', () => {
    const { outcomes, stored } = honest();
    const loser = outcomes.findIndex((o) => o.status === 409);
    const col = plan.requests[loser]!.seats[0]!.column;
    outcomes[loser] = sold(col, loser);
    const doubled = verifyRun({ plan, setupOutcomes: [], outcomes, inventory: inventoryOf(stored) });
    expect(doubled.correct).toBe(false);
    expect(doubled.problems.join('\n')).toMatch(/sold twice/);

    const fresh = honest();
    const missing = verifyRun({ plan, setupOutcomes: [], outcomes: fresh.outcomes, inventory: inventoryOf(fresh.stored.slice(1)) });
    expect(missing.problems.join('\n')).toMatch(/does not hold it/);

    const other = honest();
    const phantom = verifyRun({
      plan,
      setupOutcomes: [],
      outcomes: other.outcomes,
      inventory: inventoryOf(other.stored),
      log: [{ purchaseId: 'ghost', zoneId: '1', tickets: [{ ticketId: 'ghost.1', row: 'B', column: 1 }] }],
    });
    expect(phantom.problems.join('\n')).toMatch(/no buyer heard 201/);
  });
});
