// Money is integer minor units inside Agora and an exact decimal string at the API. No floats touch prices.

const digitsByCurrency = new Map<string, number>();

/** Decimal places of a currency's minor unit: 2 for USD, 0 for JPY, 3 for KWD. */
export function minorUnitDigits(currencyCode: string): number {
  let digits = digitsByCurrency.get(currencyCode);
  if (digits === undefined) {
    // Building a NumberFormat is slow, and money is formatted for every price on every page.
    digits = new Intl.NumberFormat('en', { style: 'currency', currency: currencyCode }).resolvedOptions()
      .maximumFractionDigits!;
    digitsByCurrency.set(currencyCode, digits);
  }
  return digits;
}

export interface Money {
  amount: string;
  currencyCode: string;
}

export function money(minorUnits: number, currencyCode: string): Money {
  const digits = minorUnitDigits(currencyCode);
  const sign = minorUnits < 0 ? '-' : '';
  const units = Math.abs(minorUnits)
    .toString()
    .padStart(digits + 1, '0');
  const amount = digits ? `${units.slice(0, -digits)}.${units.slice(-digits)}` : units;
  return { amount: sign + amount, currencyCode };
}

/** Money as people read it in notes and messages: "12.50 USD". */
export function moneyText(minorUnits: number, currencyCode: string): string {
  return `${money(minorUnits, currencyCode).amount} ${currencyCode}`;
}

/** Minor units of a decimal string, or null when it has more decimal places than the currency allows. */
export function toMinorUnits(decimal: string, currencyCode: string): number | null {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!match) return null;
  const [, sign, whole, fraction = ''] = match;
  const digits = minorUnitDigits(currencyCode);
  if (fraction.replace(/0+$/, '').length > digits) return null;
  const minor = Number(whole + fraction.padEnd(digits, '0').slice(0, digits));
  return sign ? -minor : minor;
}
