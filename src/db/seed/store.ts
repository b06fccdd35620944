// Demo shipping methods and tax rates, so a fresh store can take a cart through checkout. Idempotent.
import type { PrismaClient } from '../../generated/prisma/client.js';

const EU = ['AT', 'BE', 'DE', 'DK', 'ES', 'FI', 'FR', 'IE', 'IT', 'NL', 'PL', 'PT', 'SE'];
const NORTH_AMERICA = ['US', 'CA'];

const SHIPPING_METHODS = [
  { name: 'Standard', priceAmount: 499, countries: [...NORTH_AMERICA, ...EU, 'GB'] },
  { name: 'Express', priceAmount: 1499, countries: [...NORTH_AMERICA, ...EU, 'GB'] },
  { name: 'Free local pickup', priceAmount: 0, countries: ['US'] },
];

// Standard VAT rates; US sales tax depends on the state and is left at 0 in the demo.
const TAX_RATES = [
  ['AT', 'VAT', 2000],
  ['BE', 'VAT', 2100],
  ['DE', 'MwSt.', 1900],
  ['DK', 'moms', 2500],
  ['ES', 'IVA', 2100],
  ['FI', 'ALV', 2550],
  ['FR', 'TVA', 2000],
  ['IE', 'VAT', 2300],
  ['IT', 'IVA', 2200],
  ['NL', 'btw', 2100],
  ['PL', 'VAT', 2300],
  ['PT', 'IVA', 2300],
  ['SE', 'moms', 2500],
  ['GB', 'VAT', 2000],
  ['CA', 'GST', 500],
] as const;

export async function seedStoreSettings(prisma: PrismaClient): Promise<void> {
  await prisma.shippingMethod.createMany({ data: SHIPPING_METHODS, skipDuplicates: true });
  await prisma.taxRate.createMany({
    data: TAX_RATES.map(([countryCode, name, rateBasisPoints]) => ({ countryCode, name, rateBasisPoints })),
    skipDuplicates: true,
  });
}
