import { describe, expect, it } from 'vitest';
import { money, toMinorUnits } from './money.js';

describe('money', () => {
  it('formats minor units as an exact decimal string in the currency', () => {
    expect(money(1999, 'USD')).toEqual({ amount: '19.99', currencyCode: 'USD' });
    expect(money(5, 'USD').amount).toBe('0.05');
    expect(money(0, 'EUR').amount).toBe('0.00');
    expect(money(1999, 'JPY').amount).toBe('1999');
    expect(money(1999, 'KWD').amount).toBe('1.999');
    expect(money(-250, 'USD').amount).toBe('-2.50');
  });

  it('parses decimals into minor units without floating point', () => {
    expect(toMinorUnits('19.99', 'USD')).toBe(1999);
    expect(toMinorUnits('0.1', 'USD')).toBe(10);
    expect(toMinorUnits('1.10', 'USD')).toBe(110);
    expect(toMinorUnits('1.100', 'USD')).toBe(110);
    expect(toMinorUnits('20', 'USD')).toBe(2000);
    expect(toMinorUnits('-3.5', 'USD')).toBe(-350);
    expect(toMinorUnits('1999', 'JPY')).toBe(1999);
    // 0.29 * 100 is 28.999999999999996 in floating point
    expect(toMinorUnits('0.29', 'USD')).toBe(29);
  });

  it('refuses more decimal places than the currency has', () => {
    expect(toMinorUnits('1.999', 'USD')).toBeNull();
    expect(toMinorUnits('1.5', 'JPY')).toBeNull();
    expect(toMinorUnits('abc', 'USD')).toBeNull();
  });
});
