import type { CancelAnswer } from '../../../../http/schemas';
import { money } from '../format';

// Pure (no DOM): the unit tests run it in Node.

/** What the buyer gets back, from the cancel answer's `refund`. */
export function refundText(answer: CancelAnswer, fallbackCurrency: string): string {
  const r = answer.refund as { status: string; amountCents?: number; currency?: string; refundId?: string };
  const amount = typeof r.amountCents === 'number' ? money(r.amountCents, r.currency ?? fallbackCurrency) : undefined;
  switch (r.status) {
    case 'REFUNDED':
      return `Cancelled: refunded ${amount ?? 'the payment'}${r.refundId ? ` (refund ${r.refundId})` : ''}. The seats are on sale again.`;
    case 'PENDING':
      return 'Cancelled: the refund follows once the payment has completed. The seats are on sale again.';
    case 'NOT_CHARGED':
      return `Cancelled: nothing was charged${amount ? ` (${amount} not collected)` : ''}, so there is nothing to refund. The seats are on sale again.`;
    default:
      return `Cancelled (refund: ${r.status}). The seats are on sale again.`;
  }
}
