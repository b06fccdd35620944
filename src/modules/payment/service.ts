// After checkout: staff capture, void and refund, and the processor's webhook events. Amounts are claimed in the
// database (conditional updates, CHECK constraints) before the processor is called, and given back if it fails,
// so concurrent requests can never capture or refund more than there is.
import type { Order, Payment, PaymentOperationKind, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import { release, sell } from '../checkout/stock.js';
import { moveOrder } from '../order/stateMachine.js';
import { fail, succeed, userError, type Outcome } from '../userErrors.js';
import type { OrderStatusBus } from '../order/statusBus.js';
import type { PaymentProvider, PaymentWebhookEvent } from './provider.js';

interface OperationRequest {
  actorId: string;
  orderId: string;
  idempotencyKey: string;
}

/** What an operation changes on the payment, under which condition, and how to take it back. */
interface Plan {
  amount: number;
  claim: { where: Prisma.PaymentWhereInput; data: Prisma.PaymentUpdateManyMutationInput };
  undo: Prisma.PaymentUpdateInput;
}

class ClaimLost extends Error {}

const invalid = (field: string, message: string) => fail(userError([field], 'INVALID', message));

export class PaymentService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly logger: Logger,
    private readonly bus: OrderStatusBus | null = null,
  ) {}

  /** Captures `amount` (default: all of it) of an authorized payment. */
  capture(request: OperationRequest & { amount?: number | null }): Promise<Outcome<Order>> {
    return this.operate(request, 'CAPTURE', async (payment) => {
      const amount = request.amount ?? payment.amount;
      if (payment.status !== 'AUTHORIZED') return invalid('orderId', `A ${payment.status} payment cannot be captured.`);
      if (amount < 1 || amount > payment.amount)
        return invalid('amount', `Capture between 0.01 and the authorized amount.`);
      return {
        amount,
        claim: { where: { status: 'AUTHORIZED' }, data: { status: 'CAPTURED', capturedAmount: amount } },
        undo: { status: 'AUTHORIZED', capturedAmount: 0 },
      };
    });
  }

  /** Releases an authorization that was never captured. */
  void(request: OperationRequest): Promise<Outcome<Order>> {
    return this.operate(request, 'VOID', async (payment) =>
      payment.status === 'AUTHORIZED'
        ? {
            amount: payment.amount,
            claim: { where: { status: 'AUTHORIZED' }, data: { status: 'VOIDED' } },
            undo: { status: 'AUTHORIZED' },
          }
        : invalid('orderId', `A ${payment.status} payment cannot be voided.`),
    );
  }

  /** Refunds part or all of what was captured; the order becomes PARTIALLY_REFUNDED or REFUNDED. */
  refund(request: OperationRequest & { amount: number }): Promise<Outcome<Order>> {
    return this.operate(request, 'REFUND', async (payment) => {
      const refundable = payment.capturedAmount - payment.refundedAmount;
      if (payment.status !== 'CAPTURED') return invalid('orderId', 'Only a captured payment can be refunded.');
      if (request.amount < 1 || request.amount > refundable) {
        return invalid('amount', `At most ${refundable} minor units can still be refunded.`);
      }
      // Conditioned on what is left, not on nothing having changed: refunds that fit may run side by side.
      return {
        amount: request.amount,
        claim: {
          where: { status: 'CAPTURED', refundedAmount: { lte: payment.capturedAmount - request.amount } },
          data: { refundedAmount: { increment: request.amount } },
        },
        undo: { refundedAmount: { decrement: request.amount } },
      };
    });
  }

  /** Applies a verified webhook event once; a duplicate delivery returns false and changes nothing. */
  async applyWebhook(provider: string, event: PaymentWebhookEvent): Promise<boolean> {
    const moved: Order[] = [];
    const applied = await this.prisma.$transaction(async (tx) => {
      const fresh = await tx.$executeRaw`
        INSERT INTO payment_webhook_event (provider, event_id, type, received_at)
        VALUES (${provider}, ${event.id}, ${event.type}, now()) ON CONFLICT DO NOTHING`;
      if (!fresh) return false;
      const payment = await tx.payment.findFirst({
        where: { provider, providerReference: event.reference },
        include: { order: { include: { lines: true } } },
      });
      if (!payment) {
        this.logger.warn({ provider, event }, 'webhook for an unknown payment');
        return true;
      }
      const lines = payment.order.lines.flatMap(({ variantId, quantity }) =>
        variantId ? [{ variantId, quantity }] : [],
      );
      if (event.type === 'payment.authorized' && payment.status === 'PENDING') {
        const paid = await moveOrder(tx, payment.orderId, {
          to: 'PAID',
          note: 'payment confirmed',
          data: { reservedUntil: null },
        });
        if (paid) moved.push(paid.after);
        if (!paid) {
          // the reservation expired first: the stock went back and the order was cancelled
          this.logger.warn({ orderId: payment.orderId }, 'payment confirmed for a cancelled order; void it');
          return true;
        }
        await tx.payment.update({ where: { id: payment.id }, data: { status: 'AUTHORIZED' } });
        await sell(tx, lines, `order #${payment.order.number}`);
      } else if (event.type === 'payment.failed' && payment.status === 'PENDING') {
        await tx.payment.update({
          where: { id: payment.id },
          data: { status: 'FAILED', failureCode: 'async_failure' },
        });
        const cancelled = await moveOrder(tx, payment.orderId, {
          to: 'CANCELLED',
          note: 'payment failed',
          data: { reservedUntil: null },
        });
        if (cancelled) {
          moved.push(cancelled.after);
          await release(tx, lines);
        }
      } else if (event.type === 'payment.captured' && payment.status === 'AUTHORIZED') {
        await tx.payment.update({
          where: { id: payment.id },
          data: { status: 'CAPTURED', capturedAmount: Math.min(event.amount, payment.amount) },
        });
      } else if (event.type === 'payment.refunded' && payment.status === 'CAPTURED') {
        const refunded = Math.min(event.amount, payment.capturedAmount);
        await tx.payment.update({ where: { id: payment.id }, data: { refundedAmount: refunded } });
        const to = refunded === payment.capturedAmount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
        const refundedOrder = await moveOrder(tx, payment.orderId, { to, note: 'refunded at the processor' });
        if (refundedOrder) moved.push(refundedOrder.after);
      }
      return true;
    });
    for (const order of moved) this.bus?.publish(order);
    return applied;
  }

  /**
   * One idempotent staff operation: claim it under its key together with the amounts (so racing requests cannot
   * exceed them), call the processor outside the transaction, and undo the claim if the processor fails.
   */
  private async operate(
    request: OperationRequest,
    kind: PaymentOperationKind,
    plan: (payment: Payment) => Promise<Outcome<never> | Plan>,
    attempt = 1,
  ): Promise<Outcome<Order>> {
    const previous = await this.prisma.paymentOperation.findUnique({ where: { key: request.idempotencyKey } });
    if (previous) {
      const payment = await this.prisma.payment.findUniqueOrThrow({ where: { id: previous.paymentId } });
      if (previous.kind !== kind || payment.orderId !== request.orderId) {
        return fail(userError(['idempotencyKey'], 'CONFLICT', 'This idempotency key was used for another operation.'));
      }
      return succeed(await this.prisma.order.findUniqueOrThrow({ where: { id: request.orderId } }));
    }
    const payment = await this.prisma.payment.findFirst({
      where: { orderId: request.orderId, status: { notIn: ['DECLINED', 'FAILED'] } },
      orderBy: { createdAt: 'desc' },
    });
    if (!payment) return fail(userError(['orderId'], 'NOT_FOUND', 'No payment for this order.'));
    const planned = await plan(payment);
    if ('userErrors' in planned) {
      // The payment may look done because a request with this very key just did it: replay that instead.
      const sameKey = await this.prisma.paymentOperation.findUnique({ where: { key: request.idempotencyKey } });
      return sameKey ? this.operate(request, kind, plan, attempt) : planned;
    }
    const claimed = await this.prisma
      .$transaction(async (tx) => {
        // The key first: a concurrent request with the same key waits on it, then replays this one's result.
        await tx.paymentOperation.create({
          data: {
            key: request.idempotencyKey,
            paymentId: payment.id,
            kind,
            amount: planned.amount,
            accountId: request.actorId,
          },
        });
        const { count } = await tx.payment.updateMany({
          where: { id: payment.id, ...planned.claim.where },
          data: planned.claim.data,
        });
        if (!count) throw new ClaimLost();
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof ClaimLost) return false;
        if ((error as { code?: string }).code === 'P2002') return 'replayed' as const;
        throw error;
      });
    if (claimed === 'replayed') return this.operate(request, kind, plan, attempt);
    // Another operation changed the payment after it was read: plan again from what it is now.
    if (!claimed && attempt < 5) return this.operate(request, kind, plan, attempt + 1);
    if (!claimed) return fail(userError(['orderId'], 'CONFLICT', 'The payment changed meanwhile; read it again.'));

    const provider = this.providers.get(payment.provider)!;
    const call = {
      reference: payment.providerReference ?? payment.id,
      amount: planned.amount,
      idempotencyKey: request.idempotencyKey,
    };
    try {
      if (kind === 'CAPTURE') await provider.capture(call);
      else if (kind === 'VOID') await provider.void(call);
      else await provider.refund(call);
    } catch (error) {
      this.logger.error(
        { err: error, kind, paymentId: payment.id },
        'payment operation failed at the processor; undone',
      );
      await this.prisma.$transaction([
        this.prisma.paymentOperation.delete({ where: { key: request.idempotencyKey } }),
        this.prisma.payment.update({ where: { id: payment.id }, data: planned.undo }),
      ]);
      return fail(userError([], 'PAYMENT_FAILED', 'The payment processor did not accept the operation; retry later.'));
    }
    if (kind === 'REFUND') {
      const refunded = await this.prisma.$transaction(async (tx) => {
        const after = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
        const to = after.refundedAmount === after.capturedAmount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
        return moveOrder(tx, request.orderId, { to, accountId: request.actorId, note: `refunded ${planned.amount}` });
      });
      if (refunded) this.bus?.publish(refunded.after);
    }
    return succeed(await this.prisma.order.findUniqueOrThrow({ where: { id: request.orderId } }));
  }
}
