import { BuyerAllowance, isDeclaredBuyer } from '../inventory/allowance';
import type { Inventory, ReserveResult, SeatPosition } from '../inventory/inventory';
import type { ZoneLayout } from '../inventory/layout';
import { AllowanceCode, ReserveCode } from '../commands/scripts';

export interface DirectPurchase {
  eventId: string;
  zoneId: string;
  layout: ZoneLayout;
  purchaseId: string;
  seats: SeatPosition[];
  /** The TicketPurchased record (reserve.lua's pending record body). */
  body: string;
  /** The declared buyer; undefined or `anonymous` keeps the per-request limit only. */
  buyer: string | undefined;
  /** The event's perUserLimit. */
  limit: number;
}

export type LimitedReserveResult =
  | ReserveResult
  | { code: 'BUYER_LIMIT_REACHED'; left: number }
  /** Step 1 failed (Redis did not answer): reserve.lua never ran, so nothing was reserved. */
  | { code: 'ALLOWANCE_UNAVAILABLE'; error: unknown };

export interface BuyerLimitHooks {
  /** Runs between step 1 and step 2 (the crash test's FAULT_CRASH_AFTER_BUYER_STEP). */
  afterBuyerStep?: () => void;
  /** Step 3 failed: the entry stays provisional (it keeps counting until it is resolved). */
  onSettleError?: (err: unknown) => void;
}

/**
 * reserve.lua inside the per-buyer limit (docs/purchase-state-machine.md, "Per-buyer limit"):
 * what PurchaseEngine calls instead of Inventory.reserve so a direct purchase counts against the
 * buyer's allowance for the event like a hold does. An anonymous buyer costs nothing extra: one
 * reserve.lua call, as before. A declared buyer's purchase takes the three steps:
 *
 *   1. allowance-acquire.lua in the buyer's slot: a provisional entry under the purchase id, or
 *      BUYER_LIMIT_REACHED with the seats left (nothing written);
 *   2. reserve.lua in the zone's slot;
 *   3. allowance-settle.lua: `b` (bought, for good) on OK, dropped on a refusal.
 *
 * A thrown error from step 2 means its outcome is unknown: step 3 is skipped and the provisional
 * entry keeps counting until it is resolved through fence.lua (which tombstones the purchase id if
 * it never reserved). Step 3 failing changes no answer: the reservation stands, and the entry
 * stays provisional (counted) until resolution makes it firm.
 */
export async function reserveWithinBuyerLimit(
  inventory: Inventory,
  allowance: BuyerAllowance,
  p: DirectPurchase,
  hooks: BuyerLimitHooks = {},
): Promise<LimitedReserveResult> {
  const reserve = () => inventory.reserve(p.eventId, p.zoneId, p.layout, p.purchaseId, p.seats, p.body);
  if (!isDeclaredBuyer(p.buyer)) return reserve();
  let acquired;
  try {
    acquired = await allowance.acquire({
      eventId: p.eventId,
      buyer: p.buyer,
      entryId: p.purchaseId,
      seats: p.seats.length,
      limit: p.limit,
      kind: 'purchase',
      zoneId: p.zoneId,
      purchaseId: p.purchaseId,
    });
  } catch (error) {
    // A provisional entry may have been written: it counts until its lease ends and is resolved.
    return { code: 'ALLOWANCE_UNAVAILABLE', error };
  }
  // A purchase id is fresh per attempt, so BUSY cannot happen; count it as no allowance left.
  if (!acquired.ok) return { code: 'BUYER_LIMIT_REACHED', left: acquired.code === AllowanceCode.BUYER_LIMIT_REACHED ? acquired.left : 0 };
  hooks.afterBuyerStep?.();
  const result = await reserve();
  const outcome = result.code === ReserveCode.OK ? ({ firm: 'purchase', purchaseId: p.purchaseId } as const) : ({ firm: 'none' } as const);
  await allowance.settle(acquired.ticket, outcome).catch((err: unknown) => hooks.onSettleError?.(err));
  return result;
}
