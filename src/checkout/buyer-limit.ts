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

export type LimitedReserveResult = ReserveResult | { code: 'BUYER_LIMIT_REACHED'; left: number };

/**
 * reserve.lua inside the per-buyer limit (docs/purchase-state-machine.md, "Per-buyer limit"):
 * what PurchaseEngine calls instead of Inventory.reserve so a direct purchase counts against the
 * buyer's allowance for the event like a hold does. A thrown error means the outcome is unknown;
 * the provisional entry then keeps counting until it is resolved.
 */
export async function reserveWithinBuyerLimit(
  inventory: Inventory,
  allowance: BuyerAllowance,
  p: DirectPurchase,
): Promise<LimitedReserveResult> {
  const reserve = () => inventory.reserve(p.eventId, p.zoneId, p.layout, p.purchaseId, p.seats, p.body);
  if (!isDeclaredBuyer(p.buyer)) return reserve();
  const r = await allowance.around(
    {
      eventId: p.eventId,
      buyer: p.buyer,
      entryId: p.purchaseId,
      seats: p.seats.length,
      limit: p.limit,
      kind: 'purchase',
      zoneId: p.zoneId,
      purchaseId: p.purchaseId,
    },
    reserve,
    (res) => (res.code === ReserveCode.OK ? { firm: 'purchase', purchaseId: p.purchaseId } : { firm: 'none' }),
  );
  if (r.ok) return r.value;
  // A purchase id is fresh per request, so BUSY cannot happen; count it as no allowance left.
  return { code: 'BUYER_LIMIT_REACHED', left: r.code === AllowanceCode.BUYER_LIMIT_REACHED ? r.left : 0 };
}
