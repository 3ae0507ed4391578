import { randomId } from './ids';

const KEY = 'seatmap.buyerId';

/** The buyer id is random and kept in localStorage, so a reload keeps the same buyer. */
export function buyerId(): string {
  let id = safeGet();
  if (!id) id = newBuyerId();
  return id;
}

export function newBuyerId(): string {
  const id = `buyer-${randomId(6)}`;
  try {
    localStorage.setItem(KEY, id);
  } catch {
    // Storage disabled (private mode): the id lives for this page only.
    memory = id;
  }
  return id;
}

let memory: string | undefined;

function safeGet(): string | undefined {
  try {
    return localStorage.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}
