import { apply, availability, bitmapOf, diff, sized } from '../../src/live/picture';

const pic = (capacity: number, sold: number[], held: number[]) => ({
  taken: bitmapOf([...sold, ...held], capacity),
  held: bitmapOf(held, capacity),
});

test('diff reports each changed seat once, by its new state, and apply replays it', () => {
  const before = pic(20, [0, 1, 9], [5, 6]);
  const after = pic(20, [1, 5, 9, 19], [2, 6]);
  const changes = diff(before, after, 20);
  expect(changes).toEqual({ taken: [5, 19], freed: [0], held: [2] });
  const replayed = { taken: Buffer.from(before.taken), held: Buffer.from(before.held) };
  apply(replayed, changes);
  expect(diff(replayed, after, 20)).toEqual({ taken: [], freed: [], held: [] });
});

test('a held bit on a free seat is no seat state; sizes and availability follow the layout', () => {
  const a = { taken: bitmapOf([], 10), held: bitmapOf([3], 10) };
  expect(diff(a, { taken: bitmapOf([], 10), held: bitmapOf([], 10) }, 10)).toEqual({ taken: [], freed: [], held: [] });
  expect(sized(Buffer.from([0xff]), 20)).toEqual(Buffer.from([0xff, 0, 0]));
  expect(availability(bitmapOf([0, 1, 7], 10), [4, 6])).toEqual({ available: 7, rowAvailable: [2, 5] });
});
