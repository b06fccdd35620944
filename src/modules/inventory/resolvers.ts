// Inventory fields: stock levels and the ledger on variants, staff changes through the inventory service.
import type { Resolvers } from '../../generated/graphql.js';
import { databaseIdOrUnknown } from '../../graphql/globalId.js';
import type { Outcome } from '../userErrors.js';

const variantId = (id: string) => databaseIdOrUnknown(id, 'ProductVariant');

const variantPayload = <T>(outcome: Outcome<T>) => ({ productVariant: outcome.value, userErrors: outcome.userErrors });

export const inventoryResolvers: Resolvers = {
  Query: {
    lowStockVariants: (_, { threshold, ...page }, ctx) => ctx.inventory.lowStock(threshold, page),
  },

  Mutation: {
    inventoryAdjust: async (_, { input: { variantId: id, ...input } }, ctx) =>
      variantPayload(await ctx.inventory.adjust(ctx.viewer!.accountId, variantId(id), input)),
    inventorySet: async (_, { input: { variantId: id, ...input } }, ctx) =>
      variantPayload(await ctx.inventory.set(ctx.viewer!.accountId, variantId(id), input)),
  },

  ProductVariant: {
    inventory: (variant) => ({
      onHand: variant.stockOnHand,
      reserved: variant.stockReserved,
      available: Math.max(variant.stockOnHand - variant.stockReserved, 0),
    }),
    inventoryHistory: (variant, args, ctx) => ctx.inventory.history(variant.id, args),
  },

  InventoryChange: {
    delta: (change) => change.after - change.before,
    changedBy: (change, _, ctx) => (change.accountId ? ctx.loaders.accountById.load(change.accountId) : null),
  },
};
