import { waitText } from '../../src/web/app/src/admission/wait-text';

/** The waiting room's words for the estimated wait. */
test('the estimated wait reads as seconds, minutes or hours, and "any moment now" at the front', () => {
  expect(waitText(0)).toBe('any moment now');
  expect(waitText(1)).toBe('any moment now');
  expect(waitText(45)).toBe('about 45 s');
  expect(waitText(89.2)).toBe('about 90 s');
  expect(waitText(120)).toBe('about 2 min');
  expect(waitText(5399)).toBe('about 90 min');
  expect(waitText(7200)).toBe('about 2 h');
});
