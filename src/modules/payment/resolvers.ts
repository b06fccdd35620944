// Staff payment operations and the payment summary on orders.
import type { Resolvers } from '../../generated/graphql.js';
import type { Order } from '../../generated/prisma/client.js';
import type { Context } from '../../graphql/context.js';
import { badUserInput } from '../../graphql/errors.js';
import { databaseIdOrUnknown } from '../../graphql/globalId.js';
import { partOf } from '../../auth/ownership.js';
import { money, toMinorUnits } from '../../money.js';
import { ownedOrder } from '../order/index.js';
import type { Outcome } from '../userErrors.js';

const payload = (outcome: Outcome<Order>) => ({ order: outcome.value, userErrors: outcome.userErrors });

function minorUnits(value: string, ctx: Context): number {
  const minor = toMinorUnits(value, ctx.storeCurrency);
  if (minor === null || minor < 0)
    throw badUserInput(`"${value}" is not a valid ${ctx.storeCurrency} amount.`, 'amount');
  return minor;
}

const request = (ctx: Context, input: { orderId: string; idempotencyKey: string }) => {
  return {
    actorId: ctx.viewer!.accountId,
    orderId: databaseIdOrUnknown(input.orderId, 'Order'),
    idempotencyKey: input.idempotencyKey,
  };
};

export const paymentResolvers: Resolvers = {
  Mutation: {
    paymentCapture: async (_, { input }, ctx) =>
      payload(
        await ctx.payments.capture({
          ...request(ctx, input),
          amount: input.amount == null ? null : minorUnits(input.amount, ctx),
          final: input.finalCapture,
        }),
      ),
    paymentVoid: async (_, { input }, ctx) => payload(await ctx.payments.void(request(ctx, input))),
    paymentRefund: async (_, { input }, ctx) =>
      payload(
        await ctx.payments.refund({
          ...request(ctx, input),
          amount: input.amount == null ? null : minorUnits(input.amount, ctx),
          lines: input.lines?.map((line) => ({
            orderLineId: databaseIdOrUnknown(line.orderLineId, 'OrderLine'),
            quantity: line.quantity,
            restock: Boolean(line.restock),
          })),
        }),
      ),
  },

  Order: {
    payment: async (order, _, ctx) => {
      const payment = await ctx.loaders.paymentByOrderId.load(order.id);
      if (!payment) return null;
      const summary = {
        status: payment.status,
        amount: money(payment.amount, order.currencyCode),
        captured: money(payment.capturedAmount, order.currencyCode),
        refunded: money(payment.refundedAmount, order.currencyCode),
      };
      return partOf(summary, ownedOrder(order));
    },
  },
};
