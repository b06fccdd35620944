// Cart fields: the cart service for changes; loaders and the pricing rules for what a cart shows and costs.
import type { Resolvers } from '../../generated/graphql.js';
import type { Cart } from '../../generated/prisma/client.js';
import type { Context } from '../../graphql/context.js';
import { databaseIdOrUnknown, requireDatabaseId, toGlobalId } from '../../graphql/globalId.js';
import { partOf } from '../../auth/ownership.js';
import { money } from '../../money.js';
import type { Outcome } from '../userErrors.js';
import { cartTotals } from './pricing.js';
import { ownedCart } from './rules.js';

const cartId = (id: string) => databaseIdOrUnknown(id, 'Cart');
const lineRequests = (lines: { variantId: string; quantity: number }[] | null | undefined) =>
  lines?.map((line) => ({ variantId: databaseIdOrUnknown(line.variantId, 'ProductVariant'), quantity: line.quantity }));
const cartPayload = (outcome: Outcome<Cart>) => ({ cart: outcome.value, userErrors: outcome.userErrors });

type ShippingAddress = { countryCode: string } & Record<string, unknown>;
const addressOf = (cart: Cart) => cart.shippingAddress as ShippingAddress | null;

async function totalsOf(cart: Cart, ctx: Context) {
  const lines = await ctx.loaders.linesByCartId.load(cart.id);
  const variants = await ctx.loaders.variantById.loadMany(lines.map((line) => line.variantId));
  const priced = lines.map((line, i) => ({
    unitPrice: (variants[i] as { priceAmount: number } | null)?.priceAmount ?? 0,
    quantity: line.quantity,
  }));
  const country = addressOf(cart)?.countryCode;
  const [method, rate] = await Promise.all([
    cart.shippingMethodId ? ctx.loaders.shippingMethodById.load(cart.shippingMethodId) : null,
    country ? ctx.loaders.taxRateByCountry.load(country) : null,
  ]);
  return cartTotals(priced, method?.priceAmount ?? 0, rate?.rateBasisPoints ?? 0);
}

export const cartResolvers: Resolvers = {
  Query: {
    cart: (_, { id }, ctx) => ctx.loaders.cartById.load(requireDatabaseId(id, 'Cart', 'id')),
    shippingMethods: (_, __, ctx) => ctx.loaders.activeShippingMethods.load('all'),
  },

  Mutation: {
    cartCreate: async (_, { input }, ctx) =>
      cartPayload(
        await ctx.carts.create(ctx.viewer?.accountId ?? null, { lines: lineRequests(input.lines), email: input.email }),
      ),
    cartLinesAdd: async (_, { input }, ctx) =>
      cartPayload(await ctx.carts.addLines(cartId(input.cartId), lineRequests(input.lines) ?? [])),
    cartLinesUpdate: async (_, { input }, ctx) =>
      cartPayload(
        await ctx.carts.updateLines(
          cartId(input.cartId),
          input.lines.map((line) => ({ id: databaseIdOrUnknown(line.id, 'CartLine'), quantity: line.quantity })),
        ),
      ),
    cartLinesRemove: async (_, { input }, ctx) =>
      cartPayload(
        await ctx.carts.removeLines(
          cartId(input.cartId),
          input.lineIds.map((id) => databaseIdOrUnknown(id, 'CartLine')),
        ),
      ),
    cartBuyerIdentityUpdate: async (_, { input: { cartId: id, ...input } }, ctx) =>
      cartPayload(await ctx.carts.setBuyerIdentity(cartId(id), input)),
    cartShippingMethodSelect: async (_, { input }, ctx) =>
      cartPayload(
        await ctx.carts.selectShippingMethod(
          cartId(input.cartId),
          databaseIdOrUnknown(input.shippingMethodId, 'ShippingMethod'),
        ),
      ),
  },

  Account: {
    cart: (account, _, ctx) => ctx.loaders.openCartByAccountId.load(account.id),
  },

  Cart: {
    id: (cart) => toGlobalId('Cart', cart.id),
    lines: (cart, _, ctx) => ctx.loaders.linesByCartId.load(cart.id),
    totalQuantity: async (cart, _, ctx) =>
      (await ctx.loaders.linesByCartId.load(cart.id)).reduce((sum, line) => sum + line.quantity, 0),
    buyerIdentity: async (cart, _, ctx) =>
      partOf(
        {
          email:
            cart.email ?? (cart.accountId ? (await ctx.loaders.accountById.load(cart.accountId))?.email : null) ?? null,
          shippingAddress: partOf(addressOf(cart), ownedCart(cart)) as never,
        },
        ownedCart(cart),
      ),
    shippingMethod: (cart, _, ctx) =>
      cart.shippingMethodId ? ctx.loaders.shippingMethodById.load(cart.shippingMethodId) : null,
    availableShippingMethods: async (cart, _, ctx) => {
      const country = addressOf(cart)?.countryCode;
      const methods = await ctx.loaders.activeShippingMethods.load('all');
      return country ? methods.filter((method) => method.countries.includes(country)) : methods;
    },
    cost: async (cart, _, ctx) => {
      const totals = await totalsOf(cart, ctx);
      const currency = ctx.storeCurrency;
      const cost = {
        subtotal: money(totals.subtotal, currency),
        shipping: money(totals.shipping, currency),
        tax: money(totals.tax, currency),
        total: money(totals.total, currency),
      };
      return partOf(cost, ownedCart(cart));
    },
  },

  CartLine: {
    id: (line) => toGlobalId('CartLine', line.id),
    merchandise: async (line, _, ctx) => (await ctx.loaders.variantById.load(line.variantId))!,
    cost: async (line, _, ctx) => {
      const price = (await ctx.loaders.variantById.load(line.variantId))?.priceAmount ?? 0;
      const cart = await ctx.loaders.cartById.load(line.cartId);
      const cost = {
        unitPrice: money(price, ctx.storeCurrency),
        subtotal: money(price * line.quantity, ctx.storeCurrency),
      };
      return cart ? partOf(cost, ownedCart(cart)) : cost;
    },
  },

  ShippingMethod: {
    id: (method) => toGlobalId('ShippingMethod', method.id),
    price: (method, _, ctx) => money(method.priceAmount, ctx.storeCurrency),
  },
};
