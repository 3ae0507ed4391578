/** The estimated wait as the waiting room says it: "about 2 min", "about 45 s", "any moment now" (pure: unit-tested). */
export function waitText(seconds: number): string {
  if (seconds <= 1) return 'any moment now';
  if (seconds < 90) return `about ${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min`;
  return `about ${Math.round(seconds / 3600)} h`;
}
