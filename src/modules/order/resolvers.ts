// Order fields: checkout, shipments and cancelling, and reads that check who may see the order.
import type { Resolvers } from '../../generated/graphql.js';
import type { Fulfillment, Order } from '../../generated/prisma/client.js';
import { unitsToShip } from './derive.js';
import type { Context } from '../../graphql/context.js';
import { databaseIdOrUnknown, requireDatabaseId, toGlobalId } from '../../graphql/globalId.js';
import { grantObject, partOf, refusal } from '../../auth/ownership.js';
import { money } from '../../money.js';
import type { Outcome } from '../userErrors.js';
import { canViewOrder, ownedOrder } from './rules.js';

const orderId = (id: string) => databaseIdOrUnknown(id, 'Order');
const orderPayload = (outcome: Outcome<Order>) => ({ order: outcome.value, userErrors: outcome.userErrors });
/** A shipment's payload: the shipment and its order as they are now. */
const shipmentPayload = async (outcome: Outcome<Fulfillment>, ctx: Context) => ({
  fulfillment: outcome.value,
  order: outcome.value && (await ctx.loaders.orderById.load(outcome.value.orderId)),
  userErrors: outcome.userErrors,
});
const actor = (ctx: Context) => ctx.viewer!.accountId;
const fulfillmentId = (id: string) => databaseIdOrUnknown(id, 'Fulfillment');

export const orderResolvers: Resolvers = {
  Query: {
    order: (_, { id }, ctx) => ctx.loaders.orderById.load(requireDatabaseId(id, 'Order', 'id')),
    // The number with the email the order was placed with is the proof: the caller may read this order.
    orderByNumber: async (_, { number, email }, ctx) => {
      const order = await ctx.orders.findByNumber(number, email, ctx.clientAddress);
      if (order) grantObject(ctx, 'Order', order.id);
      return order;
    },
    orders: (_, { filter, ...page }, ctx) =>
      ctx.orders.list(
        {
          status: filter?.status,
          financialStatus: filter?.financialStatus,
          fulfillmentStatus: filter?.fulfillmentStatus,
          accountId: filter?.customerId ? databaseIdOrUnknown(filter.customerId, 'Account') : null,
          createdAfter: filter?.createdAfter,
          createdBefore: filter?.createdBefore,
        },
        page,
      ),
  },

  Mutation: {
    checkoutComplete: async (_, { input }, ctx) => {
      const outcome = await ctx.checkout.complete({
        cartId: databaseIdOrUnknown(input.cartId, 'Cart'),
        provider: input.payment.provider,
        token: input.payment.token,
        idempotencyKey: input.idempotencyKey,
      });
      // Whoever held a guest cart may read the order placed from it. A replay after the cart is gone passes the
      // cart rule, so which order comes back is only known now: a customer's order to anyone else is refused here,
      // with the mutation's own error (the Order rules would refuse its fields too).
      const order = outcome.value;
      if (order && order.accountId === null) grantObject(ctx, 'Order', order.id);
      else if (order && !canViewOrder(ctx, order)) throw refusal(ctx);
      return orderPayload(outcome);
    },
    orderFulfill: async (_, { input }, ctx) => {
      const lines = input.lines?.map((line) => ({
        orderLineId: databaseIdOrUnknown(line.orderLineId, 'OrderLine'),
        quantity: line.quantity,
      }));
      return shipmentPayload(await ctx.orders.fulfill(actor(ctx), orderId(input.orderId), { ...input, lines }), ctx);
    },
    fulfillmentMarkShipped: async (_, { input }, ctx) =>
      shipmentPayload(await ctx.orders.markShipped(actor(ctx), fulfillmentId(input.fulfillmentId), input.note), ctx),
    fulfillmentMarkDelivered: async (_, { input }, ctx) =>
      shipmentPayload(await ctx.orders.markDelivered(actor(ctx), fulfillmentId(input.fulfillmentId), input.note), ctx),
    orderCancel: async (_, { input }, ctx) =>
      orderPayload(await ctx.orders.cancel(actor(ctx), orderId(input.orderId), input)),
  },

  Subscription: {
    orderStatusChanged: {
      // The shield guards each push (resolve) but not the start (subscribe), so the same ownership decision is made
      // here once; the stream then carries only this order's changes.
      subscribe: async function* (_, { orderId: id }, ctx) {
        const order = await ctx.loaders.orderById.load(requireDatabaseId(id, 'Order', 'orderId'));
        if (!order || !canViewOrder(ctx, order)) throw refusal(ctx);
        const stop = new AbortController();
        try {
          for await (const change of ctx.orderStatusBus.changes(order.id, stop.signal)) yield change;
        } finally {
          stop.abort();
        }
      },
      // Each push reads the order, its lines, events and payment anew, as the change left them.
      resolve: async (change: { orderId: string }, _args: unknown, ctx: Context) => {
        ctx.refreshLoaders();
        return (await ctx.loaders.orderById.load(change.orderId))!;
      },
    },
  },

  Account: {
    orders: (account, args, ctx) => ctx.orders.list({ accountId: account.id }, args),
  },

  Order: {
    id: (order) => toGlobalId('Order', order.id),
    lines: (order, _, ctx) => ctx.loaders.linesByOrderId.load(order.id),
    subtotal: (order) => money(order.subtotalAmount, order.currencyCode),
    shipping: (order) => money(order.shippingAmount, order.currencyCode),
    tax: (order) => money(order.taxAmount, order.currencyCode),
    total: (order) => money(order.totalAmount, order.currencyCode),
    shippingAddress: (order) => partOf(order.shippingAddress, ownedOrder(order)) as never,
    events: (order, _, ctx) => ctx.loaders.eventsByOrderId.load(order.id),
    fulfillments: (order, _, ctx) => ctx.loaders.fulfillmentsByOrderId.load(order.id),
  },

  OrderLine: {
    id: (line) => toGlobalId('OrderLine', line.id),
    unitPrice: (line, _, ctx) => money(line.unitPriceAmount, ctx.storeCurrency),
    subtotal: (line, _, ctx) => money(line.unitPriceAmount * line.quantity, ctx.storeCurrency),
    fulfillableQuantity: (line) => unitsToShip(line),
  },

  Fulfillment: {
    id: (shipment) => toGlobalId('Fulfillment', shipment.id),
    lines: (shipment, _, ctx) => ctx.loaders.fulfillmentLinesByFulfillmentId.load(shipment.id),
  },

  FulfillmentLine: {
    orderLine: async (line, _, ctx) => (await ctx.loaders.orderLineById.load(line.orderLineId))!,
  },

  OrderEvent: {
    from: (event) => event.fromStatus,
    to: (event) => event.toStatus,
    fulfillmentId: (event) => event.fulfillmentId && toGlobalId('Fulfillment', event.fulfillmentId),
  },
};
