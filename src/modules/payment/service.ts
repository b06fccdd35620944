// What staff payment operations mean: a capture (in parts, a final one releasing the rest), a void (cancelling an
// order with nothing captured or shipped), a refund by amount or by line, and the money side of cancelling and of
// reservations that ran out. How each runs (key, lease, hold, processor, record) is operations.ts.
import type { Order, Payment, PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import { moneyText } from '../../money.js';
import { confirmPayment, unitsToShip, type PaymentReversal } from '../order/index.js';
import { fail, succeed, userError, type Outcome } from '../userErrors.js';
import type { HeldLine, OperationRequest, PaymentOperations, RefundLine } from './operations.js';
import type { PaymentProvider } from './provider.js';

export type { RefundLine } from './operations.js';

/** Tax is charged on the subtotal and shipping: a line's share is its part of that base, rounded half up. */
function withTaxShare(order: Order, price: number): number {
  const base = order.subtotalAmount + order.shippingAmount;
  if (!base) return price;
  const share = (BigInt(price) * BigInt(order.taxAmount) * 2n + BigInt(base)) / (BigInt(base) * 2n);
  return price + Number(share);
}

const invalid = (field: string, message: string) => fail(userError([field], 'INVALID', message));

export class PaymentService implements PaymentReversal {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly operations: PaymentOperations,
    private readonly logger: Logger,
  ) {}

  /** Captures `amount` (default: all that is left) of an open authorization; `final` releases the rest. */
  capture(request: OperationRequest & { amount?: number | null; final?: boolean | null }): Promise<Outcome<Order>> {
    const final = Boolean(request.final);
    return this.operations.run(
      request,
      'CAPTURE',
      { amount: request.amount ?? null, final },
      async (payment, order) => {
        const left = payment.amount - payment.capturedAmount;
        if (order.status !== 'OPEN' && order.status !== 'CLOSED') {
          return invalid('orderId', `Nothing can be captured on an order that is ${order.status}.`);
        }
        if (payment.status !== 'AUTHORIZED' || left === 0) {
          return invalid('orderId', `A ${payment.status} payment has nothing left to capture.`);
        }
        const amount = request.amount ?? left;
        if (amount < 1 || amount > left) {
          return invalid(
            'amount',
            `Capture between ${moneyText(1, order.currencyCode)} and ${moneyText(left, order.currencyCode)}.`,
          );
        }
        const closes = final || amount === left;
        return {
          amount,
          final: closes,
          claim: {
            where: { status: 'AUTHORIZED', capturedAmount: payment.capturedAmount },
            data: { capturedAmount: { increment: amount }, ...(closes && { status: 'CAPTURED' }) },
          },
        };
      },
    );
  }

  /** Releases what is left of an authorization. With nothing captured and nothing shipped, the order is cancelled. */
  void(request: OperationRequest): Promise<Outcome<Order>> {
    return this.operations.run(request, 'VOID', {}, async (payment) => {
      if (payment.status !== 'AUTHORIZED' && payment.status !== 'PENDING') {
        return invalid('orderId', `A ${payment.status} payment cannot be voided.`);
      }
      const status = payment.capturedAmount > 0 ? 'CAPTURED' : 'VOIDED';
      return {
        amount: payment.amount - payment.capturedAmount,
        claim: { where: { status: payment.status, capturedAmount: payment.capturedAmount }, data: { status } },
      };
    });
  }

  /** Refunds an amount, or lines (their price with their share of the tax), of what was captured. */
  refund(request: OperationRequest & { amount?: number | null; lines?: RefundLine[] | null }): Promise<Outcome<Order>> {
    const lines = request.lines ?? [];
    const parts = { amount: request.amount ?? null, lines };
    return this.operations.run(request, 'REFUND', parts, async (payment, order) => {
      const refundable = payment.capturedAmount - payment.refundedAmount;
      if (!lines.length && request.amount == null) return invalid('amount', 'Give an amount or lines to refund.');
      const held = lines.length ? await this.holdLines(order, lines) : [];
      if ('userErrors' in held) return held;
      const amount = request.amount ?? held.reduce((sum, line) => sum + line.amount, 0);
      if (refundable === 0) return invalid('orderId', 'Nothing captured is left to refund.');
      if (amount < 1 || amount > refundable) {
        return invalid(
          'amount',
          `Refund between ${moneyText(1, order.currencyCode)} and ${moneyText(refundable, order.currencyCode)}.`,
        );
      }
      // Conditioned on what is left, not on nothing having changed: refunds that fit may run side by side.
      return {
        amount,
        lines: held,
        claim: {
          where: { refundedAmount: { lte: payment.capturedAmount - amount } },
          data: { refundedAmount: { increment: amount } },
        },
      };
    });
  }

  /** For orderCancel: voids an open authorization and, when asked, refunds what was captured. */
  async reverseForCancellation(
    orderId: string,
    actorId: string | null,
    refund: boolean,
    note?: string | null,
  ): Promise<Outcome<null>> {
    const payment = await this.prisma.payment.findFirst({ where: { orderId }, orderBy: { createdAt: 'desc' } });
    if (!payment) return succeed(null);
    if (payment.status === 'AUTHORIZED' || payment.status === 'PENDING') {
      const voided = await this.void({ actorId, orderId, idempotencyKey: `cancel-void:${orderId}`, note });
      if (!voided.value) return voided;
    }
    const left = await this.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } });
    if (refund && left.capturedAmount > left.refundedAmount) {
      const refunded = await this.refund({
        actorId,
        orderId,
        idempotencyKey: `cancel-refund:${orderId}`,
        amount: left.capturedAmount - left.refundedAmount,
        note,
      });
      if (!refunded.value) return refunded;
    }
    return succeed(null);
  }

  /**
   * An order whose payment waited for the processor past its reservation: asks the processor once more (a webhook
   * may have been lost). Authorized: the order is confirmed. Otherwise the order is cancelled and the pending
   * authorization voided, so nothing can be charged later for stock that went back.
   */
  async expirePending(orderId: string, cancel: (orderId: string) => Promise<Outcome<Order>>): Promise<boolean> {
    const payment = await this.prisma.payment.findFirst({ where: { orderId, status: 'PENDING' } });
    const answer =
      payment && (await this.providers.get(payment.provider)!.lookup(payment.idempotencyKey ?? payment.id));
    if (payment && answer?.status === 'authorized') {
      await this.prisma.$transaction(async (tx) => {
        const { count } = await tx.payment.updateMany({
          where: { id: payment.id, status: 'PENDING' },
          data: { status: 'AUTHORIZED', providerReference: answer.reference },
        });
        if (count) await confirmPayment(tx, orderId, { accountId: null, note: 'payment confirmed by the processor' });
      });
      return false;
    }
    return Boolean((await cancel(orderId)).value);
  }

  /** Settles operations whose process died; see PaymentOperations.recoverStale. */
  recoverOperations(): Promise<number> {
    return this.operations.recoverStale();
  }

  /** Voids an authorization that cannot be used (its order is gone), at the processor and on the payment. */
  async voidAtProcessor(payment: Payment, why: string): Promise<void> {
    const provider = this.providers.get(payment.provider)!;
    await provider.void({ reference: payment.providerReference ?? payment.id, idempotencyKey: `void:${payment.id}` });
    await this.prisma.payment.updateMany({
      where: { id: payment.id, status: { in: ['PENDING', 'AUTHORIZED'] } },
      data: { status: 'VOIDED' },
    });
    this.logger.warn({ paymentId: payment.id, orderId: payment.orderId, why }, 'voided an authorization');
  }

  /** The lines a refund takes, unshipped units first; a user error when a line is not the order's or too large. */
  private async holdLines(order: Order, lines: RefundLine[]): Promise<HeldLine[] | Outcome<never>> {
    const rows = await this.prisma.orderLine.findMany({ where: { orderId: order.id } });
    const held: HeldLine[] = [];
    for (const [index, line] of lines.entries()) {
      const row = rows.find((candidate) => candidate.id === line.orderLineId);
      if (!row)
        return fail(userError(['lines', String(index), 'orderLineId'], 'NOT_FOUND', 'Not a line of this order.'));
      const left = row.quantity - row.refundedQuantity;
      if (line.quantity < 1 || line.quantity > left || held.some((h) => h.orderLineId === row.id)) {
        return invalid('lines', `Line ${row.sku}: refund 1 to ${left} units, once per refund.`);
      }
      const amount = withTaxShare(order, row.unitPriceAmount * line.quantity);
      held.push({ ...line, removed: Math.min(line.quantity, unitsToShip(row)), amount });
    }
    return held;
  }
}
