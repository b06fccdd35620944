// Cart totals in integer minor units. Tax is (subtotal + shipping) × rate, with the rate in basis points, rounded
// half up to the minor unit; the arithmetic is in BigInt so no total is too large to be exact.

export interface PricedLine {
  unitPrice: number;
  quantity: number;
}

export interface CartTotals {
  subtotal: number;
  shipping: number;
  tax: number;
  total: number;
}

const BASIS_POINTS = 10_000n;

/** Order, payment and checkout amounts are int4 columns: no order may total more. */
export const MAX_ORDER_TOTAL = 2_147_483_647;
/** The most a cart's goods may cost, leaving room below MAX_ORDER_TOTAL for its shipping and tax. */
export const MAX_CART_SUBTOTAL = 1_000_000_000;

/** The goods' cost, exact whatever the quantities. */
export const subtotalOf = (lines: PricedLine[]): bigint =>
  lines.reduce((sum, line) => sum + BigInt(line.unitPrice) * BigInt(line.quantity), 0n);

/** (amount × basisPoints / 10 000) rounded half up, for amounts and rates that are not negative. */
export function applyRate(amount: number, basisPoints: number): number {
  return Number((BigInt(amount) * BigInt(basisPoints) * 2n + BASIS_POINTS) / (BASIS_POINTS * 2n));
}

export function cartTotals(lines: PricedLine[], shipping: number, taxBasisPoints: number): CartTotals {
  const subtotal = Number(subtotalOf(lines));
  const tax = applyRate(subtotal + shipping, taxBasisPoints);
  return { subtotal, shipping, tax, total: subtotal + shipping + tax };
}
