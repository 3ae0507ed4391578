import { Countdown, formatRemaining } from '../../src/web/app/src/checkout/countdown';
import { refundText } from '../../src/web/app/src/checkout/refund-text';
import type { CancelAnswer } from '../../src/http/schemas';

/** The seat map's checkout parts that need no browser: the countdown and the refund line. */
describe('formatRemaining', () => {
  it('shows minutes and seconds, hours only when there are some, and never less than 0:00', () => {
    expect(formatRemaining(600_000)).toBe('10:00');
    expect(formatRemaining(599_001)).toBe('10:00');
    expect(formatRemaining(599_000)).toBe('9:59');
    expect(formatRemaining(7_000)).toBe('0:07');
    expect(formatRemaining(1)).toBe('0:01');
    expect(formatRemaining(0)).toBe('0:00');
    expect(formatRemaining(-5_000)).toBe('0:00');
    expect(formatRemaining(3_723_000)).toBe('1:02:03');
    expect(formatRemaining(7_200_000)).toBe('2:00:00');
  });
});

describe('Countdown', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('ticks on each whole second, announces 60 and 10 seconds left once, and ends at expiresAt', () => {
    const shown: string[] = [];
    const said: number[] = [];
    let ended = 0;
    const c = new Countdown(
      (left) => shown.push(formatRemaining(left)),
      () => ended++,
      (s) => said.push(s),
    );
    c.start(Date.now() + 61_500);
    expect(shown).toEqual(['1:02']);
    jest.advanceTimersByTime(500);
    expect(shown.at(-1)).toBe('1:01');
    jest.advanceTimersByTime(1_000);
    expect(shown.at(-1)).toBe('1:00');
    expect(said).toEqual([60]);
    jest.advanceTimersByTime(50_000);
    expect(shown.at(-1)).toBe('0:10');
    expect(said).toEqual([60, 10]);
    // One value per second: no second skipped or shown twice.
    expect(new Set(shown).size).toBe(shown.length);
    expect(ended).toBe(0);
    jest.advanceTimersByTime(10_000);
    expect(shown.at(-1)).toBe('0:00');
    expect(ended).toBe(1);
    jest.advanceTimersByTime(5_000);
    expect(ended).toBe(1);
  });

  it('an extension moves the end, and announcements still ahead are made again', () => {
    const said: number[] = [];
    let ended = 0;
    const c = new Countdown(
      () => undefined,
      () => ended++,
      (s) => said.push(s),
    );
    c.start(Date.now() + 30_000);
    jest.advanceTimersByTime(25_000);
    expect(said).toEqual([10]);
    c.start(Date.now() + 305_000);
    jest.advanceTimersByTime(10_000);
    expect(said).toEqual([10, 300]);
    jest.advanceTimersByTime(295_000);
    expect(said).toEqual([10, 300, 60, 10]);
    expect(ended).toBe(1);
    c.stop();
  });
});

describe('refundText', () => {
  const answer = (refund: Record<string, unknown>): CancelAnswer => ({
    purchaseId: 'E.z.p',
    status: 'CANCELLED',
    eventId: 'E',
    zoneId: 'z',
    venueId: 'V',
    userId: 'u',
    cancelledAt: '2027-01-01T00:00:00Z',
    tickets: [],
    refund: refund as CancelAnswer['refund'],
  });

  it('names the amount and the refund for a paid purchase, and says when nothing was charged', () => {
    expect(refundText(answer({ status: 'REFUNDED', amountCents: 19000, currency: 'EUR', refundId: 're_1' }), 'USD')).toMatch(
      /^Cancelled: refunded .*190\.00 \(refund re_1\)\. The seats are on sale again\.$/,
    );
    expect(refundText(answer({ status: 'NOT_CHARGED', amountCents: 500 }), 'USD')).toMatch(
      /^Cancelled: nothing was charged \(.*5\.00 not collected\)/,
    );
    expect(refundText(answer({ status: 'PENDING' }), 'USD')).toMatch(/^Cancelled: the refund follows/);
    expect(refundText(answer({ status: 'SOMETHING_NEW' }), 'USD')).toBe('Cancelled (refund: SOMETHING_NEW). The seats are on sale again.');
  });
});
