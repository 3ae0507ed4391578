import type { Condition } from '../../src/controller/reconcile';
import { degraded, nextStatus } from '../../src/controller/status';

const cond = (type: Condition['type'], ok: boolean, reason = type, message = ''): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
});
const T0 = new Date('2030-01-01T00:00:00Z');
const T1 = new Date('2030-01-01T00:05:00Z');

describe('status conditions', () => {
  const desired = {
    conditions: [cond('Degraded', false), cond('Seeded', true), cond('OnSale', true), cond('SoldOut', false)],
    seatsSold: 0,
    seatsAvailable: 10,
  };

  test('a first status stamps every condition, in a stable order, with the generation', () => {
    const next = nextStatus(undefined, desired, 3, T0)!;
    expect(next.status).toEqual({
      observedGeneration: 3,
      seatsSold: 0,
      seatsAvailable: 10,
      conditions: ['Seeded', 'OnSale', 'SoldOut', 'Degraded'].map((type) =>
        expect.objectContaining({ type, lastTransitionTime: T0.toISOString(), observedGeneration: 3 }),
      ),
    });
    expect(next.transitions.map((t) => `${t.type}=${t.status}`)).toEqual(['Seeded=True', 'OnSale=True', 'SoldOut=False', 'Degraded=False']);
  });

  test('the same desired status again is no write at all', () => {
    const written = nextStatus(undefined, desired, 3, T0)!.status;
    expect(nextStatus(written, desired, 3, T1)).toBeUndefined();
  });

  test('lastTransitionTime moves only for a condition whose status changed', () => {
    const written = nextStatus(undefined, desired, 3, T0)!.status;
    const sold = {
      ...desired,
      seatsSold: 10,
      seatsAvailable: 0,
      conditions: [cond('Seeded', true), cond('OnSale', true, 'OnSale', 'new message'), cond('SoldOut', true), cond('Degraded', false)],
    };
    const next = nextStatus(written, sold, 3, T1)!;
    const at = Object.fromEntries(next.status.conditions!.map((c) => [c.type, c.lastTransitionTime]));
    expect(at).toEqual({ Seeded: T0.toISOString(), OnSale: T0.toISOString(), SoldOut: T1.toISOString(), Degraded: T0.toISOString() });
    expect(next.transitions).toEqual([{ type: 'SoldOut', status: 'True', reason: 'SoldOut', message: '' }]);
    expect(next.status.conditions!.find((c) => c.type === 'OnSale')?.message).toBe('new message');
  });

  test('a new generation is a change even when the conditions are not', () => {
    const written = nextStatus(undefined, desired, 3, T0)!.status;
    expect(nextStatus(written, desired, 4, T1)?.status.observedGeneration).toBe(4);
  });

  test('degraded() keeps the other conditions as judged on their generation, and the counts', () => {
    const written = nextStatus(undefined, desired, 3, T0)!.status;
    const next = nextStatus(written, degraded(written, 'InvalidSpec', 'spec.perUserLimit: too big'), 4, T1)!;
    expect(next.status).toMatchObject({ observedGeneration: 4, seatsSold: 0, seatsAvailable: 10 });
    expect(next.status.conditions).toEqual([
      { ...written.conditions![0], observedGeneration: 3 },
      { ...written.conditions![1], observedGeneration: 3 },
      { ...written.conditions![2], observedGeneration: 3 },
      {
        type: 'Degraded',
        status: 'True',
        reason: 'InvalidSpec',
        message: 'spec.perUserLimit: too big',
        lastTransitionTime: T1.toISOString(),
        observedGeneration: 4,
      },
    ]);
  });
});
