import { describe, expect, it } from 'vitest';
import { applyRate, cartTotals } from './pricing.js';

describe('cart pricing', () => {
  it('adds lines, shipping and tax in minor units', () => {
    expect(
      cartTotals(
        [
          { unitPrice: 1999, quantity: 2 },
          { unitPrice: 500, quantity: 1 },
        ],
        499,
        1900,
      ),
    ).toEqual({
      subtotal: 4498,
      shipping: 499,
      tax: 949, // 4997 × 0.19 = 949.43
      total: 5946,
    });
  });

  it('rounds tax half up to the minor unit', () => {
    expect(applyRate(50, 1000)).toBe(5); // 5.0
    expect(applyRate(25, 1000)).toBe(3); // 2.5 rounds up
    expect(applyRate(24, 1000)).toBe(2); // 2.4 rounds down
    expect(applyRate(1, 5000)).toBe(1); // 0.5 rounds up
    expect(applyRate(1, 4999)).toBe(0);
  });

  it('is exact beyond floating point range', () => {
    const totals = cartTotals([{ unitPrice: 2_147_483_647, quantity: 50 }], 0, 9999);
    expect(totals.subtotal).toBe(107_374_182_350);
    expect(totals.tax).toBe(107_363_444_932); // 107374182350 × 0.9999 = 107363444931.765
  });

  it('charges no tax without a rate and nothing for an empty cart', () => {
    expect(cartTotals([], 0, 0)).toEqual({ subtotal: 0, shipping: 0, tax: 0, total: 0 });
    expect(cartTotals([{ unitPrice: 100, quantity: 3 }], 0, 0).total).toBe(300);
  });
});
