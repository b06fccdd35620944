// What an order's money and fulfilment statuses are, worked out from its payment and its lines: services change
// amounts and quantities, then move the machines to what these say (src/modules/order/sync.ts).
import type { FinancialStatus, FulfillmentStatus, Payment } from '../../generated/prisma/client.js';

type Amounts = Pick<Payment, 'status' | 'amount' | 'capturedAmount' | 'refundedAmount'>;

/** `payment` null: an order that cost nothing, paid as placed. */
export function financialStatusOf(payment: Amounts | null): FinancialStatus {
  if (!payment) return 'PAID';
  const { status, capturedAmount: captured, refundedAmount: refunded } = payment;
  if (status === 'PENDING') return 'PENDING';
  if (captured === 0) return status === 'AUTHORIZED' ? 'AUTHORIZED' : 'VOIDED';
  const open = status === 'AUTHORIZED' && captured < payment.amount;
  if (refunded > 0) return refunded >= captured && !open ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  return open ? 'PARTIALLY_PAID' : 'PAID';
}

export interface LineProgress {
  quantity: number;
  fulfilledQuantity: number;
  removedQuantity: number;
}

/** Units still to pack: bought, less those packed and those refunded before they were packed. */
export const unitsToShip = (line: LineProgress): number =>
  line.quantity - line.fulfilledQuantity - line.removedQuantity;

export function fulfillmentStatusOf(lines: LineProgress[]): FulfillmentStatus {
  const packed = lines.some((line) => line.fulfilledQuantity > 0);
  if (!packed) return 'UNFULFILLED';
  return lines.every((line) => unitsToShip(line) === 0) ? 'FULFILLED' : 'PARTIALLY_FULFILLED';
}

/** Money the customer has been charged and not given back: what a fulfilment may go ahead on. */
export const FULFILLABLE_FINANCIAL: readonly FinancialStatus[] = [
  'AUTHORIZED',
  'PARTIALLY_PAID',
  'PAID',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
];

/** Done with: everything packed has been delivered and the money is settled. */
export const SETTLED_FINANCIAL: readonly FinancialStatus[] = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];
