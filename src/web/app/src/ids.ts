/**
 * Random ids from crypto.getRandomValues, which (unlike crypto.randomUUID) also works on
 * plain-http pages that are not a secure context.
 */
export function randomId(bytes = 8): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
