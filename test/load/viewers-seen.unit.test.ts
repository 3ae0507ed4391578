import {
  Histogram,
  PolledBodies,
  PollViewerRecord,
  purchaseIndex,
  quantileOf,
  SeenTally,
  splitFrames,
  StreamFrames,
  StreamViewerRecord,
} from '../../bench/viewers-seen';

/**
 * The viewers benchmark's bookkeeping (bench/viewers-seen.ts): a frame split across chunks is
 * still one frame, a seq gap is counted, a seat is seen when the first frame naming it taken
 * arrives, and a viewer that never saw a seat makes that purchase's "every viewer" time unknown.
 */

const bitmap = (capacity: number, taken: number[]) => {
  const b = Buffer.alloc(Math.ceil(capacity / 8));
  for (const i of taken) b[i >> 3]! |= 0x80 >> (i & 7);
  return b.toString('base64');
};
const snapshotData = (taken: number[]) => JSON.stringify({ sold: { encoding: 'bitmap-msb-base64', data: bitmap(16, taken) } });
const changeData = (seq: number, taken: number[]) => JSON.stringify({ seq, taken, freed: [], held: [] });

describe('splitFrames', () => {
  it('returns whole frames whatever the chunking, skipping comments and retry blocks', () => {
    const text = `retry: 2000\n\nid: 7\nevent: snapshot\ndata: {"a":1}\n\n: heartbeat\n\nid: 8\nevent: change\ndata: {"b":\ndata: 2}\n\n`;
    for (const size of [1, 3, 7, text.length]) {
      const frames: [string, string | undefined, string][] = [];
      let rest = '';
      for (let i = 0; i < text.length; i += size) rest = splitFrames(rest, text.slice(i, i + size), (e, id, d) => frames.push([e, id, d]));
      expect(frames).toEqual([
        ['snapshot', '7', '{"a":1}'],
        ['change', '8', '{"b":\n2}'],
      ]);
      expect(rest).toBe('');
    }
  });

  it('keeps an incomplete frame for the next chunk', () => {
    const seen: string[] = [];
    const rest = splitFrames('', 'id: 1\nevent: change\ndata: {}', (_e, id) => seen.push(id!));
    expect(seen).toEqual([]);
    expect(splitFrames(rest, '\n\n', (_e, id) => seen.push(id!))).toBe('');
    expect(seen).toEqual(['1']);
  });
});

describe('stream viewers', () => {
  it('sees a seat when the first frame naming it taken arrives, from the snapshot or a change', () => {
    const frames = new StreamFrames();
    frames.snapshot(10, snapshotData([3]));
    frames.change(11, changeData(11, [4]));
    frames.change(12, changeData(12, [5, 6]));
    const v = new StreamViewerRecord();
    v.received('snapshot', 10, 1000);
    v.received('change', 11, 1100);
    v.received('change', 12, 1250);
    const purchases = [
      { offset: 4, at: 1050 },
      { offset: 6, at: 1200 },
      { offset: 3, at: 1010 }, // seen in the snapshot, before its 201
      { offset: 9, at: 1300 }, // never
    ];
    expect(v.seenAt(purchases, frames, purchaseIndex(purchases))).toEqual([1100, 1250, 1000, undefined]);
    expect(v.gaps).toBe(0);
    // The picture the frames add up to.
    expect(frames.picture).toEqual({ seq: 12, taken: Buffer.from(bitmap(16, [3, 4, 5, 6]), 'base64') });
  });

  it('counts the seqs a viewer skipped, and a change before any snapshot', () => {
    const v = new StreamViewerRecord();
    v.received('change', 5, 1);
    v.received('change', 6, 2);
    v.received('change', 9, 3);
    expect(v.gaps).toBe(1 + 2);
    const w = new StreamViewerRecord();
    w.received('snapshot', 5, 1);
    w.received('snapshot', 20, 2); // a resync: no gap, but counted
    w.received('change', 21, 3);
    expect([w.gaps, w.resyncs]).toEqual([0, 1]);
  });
});

describe('polling viewers', () => {
  it('sees a seat with the first answer whose body has it taken', () => {
    const bodies = new PolledBodies();
    bodies.add('"a"', snapshotData([]));
    bodies.add('"b"', snapshotData([2]));
    bodies.add('"c"', snapshotData([2, 7]));
    const v = new PollViewerRecord();
    v.answered('"a"', 100);
    v.answered('"b"', 1100);
    v.answered('"c"', 2100);
    expect(
      v.seenAt(
        [
          { offset: 7, at: 1500 },
          { offset: 2, at: 900 },
          { offset: 1, at: 900 },
        ],
        bodies,
      ),
    ).toEqual([2100, 1100, undefined]);
  });
});

describe('SeenTally and Histogram', () => {
  it('takes per purchase the latest viewer, counts seen-before-the-201 as 0 and unseen as unknown', () => {
    const purchases = [
      { offset: 1, at: 1000 },
      { offset: 2, at: 2000 },
    ];
    const t = new SeenTally(purchases);
    t.viewer([1100, 1990]);
    t.viewer([1300, 2050]);
    t.viewer([1200, undefined]);
    const r = t.report();
    expect(r.maxPerPurchase).toEqual([300, null]);
    expect([r.pairsSeen, r.beforeAnswer, r.unseen]).toEqual([5, 1, 1]);
    const h = new Histogram();
    h.mergeSparse(r.pairs);
    h.addNever(r.unseen);
    expect(h.quantileOrNever(0.5)).toBe(101); // pairs 0, 50, 100, 200, 300 ms: the median's bucket is [100, 101)
    expect(h.quantileOrNever(0.99)).toBeNull(); // the unseen pair
  });

  it('quantileOf is nearest-rank', () => {
    expect(quantileOf([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantileOf([1, 2, Infinity], 0.99)).toBe(Infinity);
    expect(quantileOf([], 0.5)).toBe(0);
  });
});
