import { call } from '../api';
import type { AuthConfig } from '../../../../http/schemas';
import { buyerId, newBuyerId } from '../buyer';

/**
 * Who this page buys as, and how it tells the API (docs/checkout.md, "Buyer identity"):
 * - declared mode: the random buyer id of buyer.ts, sent as `X-User-Id`;
 * - jwt mode: a signed-in user, sent as `Authorization: Bearer <token>`. The page signs in only
 *   through the dev token route (`POST /api/v1/dev/token`, on with AUTH_DEV_TOKENS=true); a real
 *   deployment would put its identity provider's login here.
 * The mode comes from `GET /api/v1/auth/config` once, at start.
 */

interface DevSession {
  token: string;
  userId: string;
  /** Epoch ms; a token this close to its end is dropped rather than sent. */
  expiresAt: number;
}

const SESSION_KEY = 'seatmap.devSession';
/** A token with less than this left is treated as gone: a request must not die mid-checkout. */
const EXPIRY_MARGIN_MS = 60_000;

let config: AuthConfig = { mode: 'declared', devTokens: false };
let session: DevSession | undefined = readSession();
const listeners = new Set<() => void>();

/** Reads the API's auth settings; an API that does not answer is taken as declared mode (the requests will say more). */
export async function loadAuthConfig(): Promise<AuthConfig> {
  try {
    config = await call<AuthConfig>('api/v1/auth/config', { cache: 'no-store' });
  } catch {
    config = { mode: 'declared', devTokens: false };
  }
  return config;
}

export const identity = {
  get mode(): AuthConfig['mode'] {
    return config.mode;
  },
  get devTokens(): boolean {
    return config.devTokens;
  },

  /** The buyer the page acts for; undefined in jwt mode until someone signs in. */
  buyer(): string | undefined {
    if (config.mode === 'declared') return buyerId();
    return liveSession()?.userId;
  },

  /** The headers that name the buyer on buyer routes (none in jwt mode before sign-in: the API answers 401). */
  headers(): Record<string, string> {
    if (config.mode === 'declared') return { 'x-user-id': buyerId() };
    const s = liveSession();
    return s ? { authorization: `Bearer ${s.token}` } : {};
  },

  /** jwt mode: a dev token for `userId` from the dev token route; the page then acts for that user. */
  async signIn(userId: string): Promise<void> {
    const t = await call<{ token: string; expiresIn: number; userId: string }>('api/v1/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    session = { token: t.token, userId: t.userId, expiresAt: Date.now() + t.expiresIn * 1000 };
    writeSession(session);
    changed();
  },

  signOut(): void {
    session = undefined;
    writeSession(undefined);
    changed();
  },

  /** Declared mode: a fresh random buyer id. */
  newDeclaredBuyer(): void {
    newBuyerId();
    changed();
  },

  /** Calls `fn` whenever the buyer changes; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

function changed(): void {
  for (const fn of listeners) fn();
}

function liveSession(): DevSession | undefined {
  if (session && session.expiresAt - EXPIRY_MARGIN_MS <= Date.now()) {
    session = undefined;
    writeSession(undefined);
  }
  return session;
}

function readSession(): DevSession | undefined {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    const s = raw ? (JSON.parse(raw) as Partial<DevSession>) : undefined;
    return s && typeof s.token === 'string' && typeof s.userId === 'string' && typeof s.expiresAt === 'number'
      ? (s as DevSession)
      : undefined;
  } catch {
    return undefined;
  }
}

function writeSession(s: DevSession | undefined): void {
  try {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // Storage disabled: the session lives for this page only.
  }
}
