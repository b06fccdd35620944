import DataLoader from 'dataloader';
import type { Cart, CartLine, PrismaClient, ShippingMethod, TaxRate } from '../../generated/prisma/client.js';
import { loaderByKey, loaderGroupedBy } from '../../db/batch.js';

export function createCartLoaders(prisma: PrismaClient) {
  return {
    cartById: loaderByKey<string, Cart>(
      (ids) => prisma.cart.findMany({ where: { id: { in: [...ids] } } }),
      (cart) => cart.id,
    ),
    linesByCartId: loaderGroupedBy<string, CartLine>(
      (cartIds) =>
        prisma.cartLine.findMany({
          where: { cartId: { in: [...cartIds] } },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
      (line) => line.cartId,
    ),
    /** Each account's open cart: the one changed most recently. */
    openCartByAccountId: new DataLoader<string, Cart | null>(async (accountIds) => {
      const carts = await prisma.cart.findMany({
        where: { accountId: { in: [...accountIds] } },
        orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
        distinct: ['accountId'],
      });
      return accountIds.map((id) => carts.find((cart) => cart.accountId === id) ?? null);
    }),
    shippingMethodById: loaderByKey<string, ShippingMethod>(
      (ids) => prisma.shippingMethod.findMany({ where: { id: { in: [...ids] } } }),
      (method) => method.id,
    ),
    taxRateByCountry: loaderByKey<string, TaxRate>(
      (codes) => prisma.taxRate.findMany({ where: { countryCode: { in: [...codes] } } }),
      (rate) => rate.countryCode,
    ),
    activeShippingMethods: new DataLoader<'all', ShippingMethod[]>(async (keys) => {
      const methods = await prisma.shippingMethod.findMany({ where: { active: true }, orderBy: { name: 'asc' } });
      return keys.map(() => methods);
    }),
  };
}

export type CartLoaders = ReturnType<typeof createCartLoaders>;
