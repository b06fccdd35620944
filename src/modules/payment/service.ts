// After checkout: staff capture, void and refund, and the processor's webhook events. Each operation is claimed
// under its idempotency key with a lease, and its amounts (and a refund's line quantities) are held in the database
// by conditional updates before the processor is called, so concurrent requests can never capture or refund more
// than there is. The processor is called outside any transaction; its answer is recorded with the order's moves in
// one transaction. An operation whose process died is settled by recovery (recoverOperations) once its lease ends.
import { createHash } from 'node:crypto';
import type { Order, Payment, PaymentOperation, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import { money } from '../../money.js';
import { restock } from '../inventory/index.js';
import {
  cancelOrder,
  confirmPayment,
  notShipped,
  syncOrder,
  unitsToShip,
  type Actor,
  type PaymentReversal,
} from '../order/index.js';
import {
  databaseErrorOf,
  fail,
  idempotencyKeyProblem,
  keyReused,
  requestError,
  succeed,
  transact,
  userError,
  type Outcome,
} from '../userErrors.js';
import { TransientPaymentError, type PaymentProvider } from './provider.js';

interface OperationRequest {
  /** Null: the system (recovery, expiry). */
  actorId: string | null;
  orderId: string;
  idempotencyKey: string;
  /** Why, for the order's history; the operation itself ("captured 5.00 USD") when left out. */
  note?: string | null;
}

export interface RefundLine {
  orderLineId: string;
  quantity: number;
  /** Put the units back on hand. */
  restock: boolean;
}

interface HeldLine extends RefundLine {
  /** Of `quantity`, the units taken off what is left to ship (refunded before they were packed). */
  removed: number;
  /** Their price and their share of the order's tax. */
  amount: number;
}

/** Tax is charged on the subtotal and shipping: a line's share is its part of that base, rounded half up. */
function withTaxShare(order: Order, price: number): number {
  const base = order.subtotalAmount + order.shippingAmount;
  if (!base) return price;
  const share = (BigInt(price) * BigInt(order.taxAmount) * 2n + BigInt(base)) / (BigInt(base) * 2n);
  return price + Number(share);
}

type Kind = PaymentOperation['kind'];

/** What an operation holds on the payment and the lines, under which condition, and how to give it back. */
interface Plan {
  amount: number;
  final?: boolean;
  claim: { where: Prisma.PaymentWhereInput; data: Prisma.PaymentUpdateManyMutationInput };
  undo: Prisma.PaymentUpdateInput;
  lines?: HeldLine[];
}

class ClaimLost extends Error {}

const invalid = (field: string, message: string) => fail(userError([field], 'INVALID', message));
const fingerprintOf = (parts: unknown) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');
const stillRunning = () =>
  fail(requestError('CONFLICT', 'An operation with this idempotency key is still running; retry in 2 seconds.'));

export class PaymentService implements PaymentReversal {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly logger: Logger,
    private readonly leaseMs: number,
  ) {}

  /** Captures `amount` (default: all that is left) of an open authorization; `final` releases the rest. */
  capture(request: OperationRequest & { amount?: number | null; final?: boolean | null }): Promise<Outcome<Order>> {
    const final = Boolean(request.final);
    return this.operate(request, 'CAPTURE', { amount: request.amount ?? null, final }, async (payment, order) => {
      const left = payment.amount - payment.capturedAmount;
      if (order.status !== 'OPEN' && order.status !== 'CLOSED') {
        return invalid('orderId', `Nothing can be captured on an order that is ${order.status}.`);
      }
      if (payment.status !== 'AUTHORIZED' || left === 0) {
        return invalid('orderId', `A ${payment.status} payment has nothing left to capture.`);
      }
      const amount = request.amount ?? left;
      if (amount < 1 || amount > left) {
        return invalid('amount', `Capture between ${this.format(1, order)} and ${this.format(left, order)}.`);
      }
      const closes = final || amount === left;
      return {
        amount,
        final: closes,
        claim: {
          where: { status: 'AUTHORIZED', capturedAmount: payment.capturedAmount },
          data: { capturedAmount: { increment: amount }, ...(closes && { status: 'CAPTURED' }) },
        },
        undo: { capturedAmount: { decrement: amount }, status: 'AUTHORIZED' },
      };
    });
  }

  /** Releases what is left of an authorization. With nothing captured and nothing shipped, the order is cancelled. */
  void(request: OperationRequest): Promise<Outcome<Order>> {
    return this.operate(request, 'VOID', {}, async (payment) => {
      if (payment.status !== 'AUTHORIZED' && payment.status !== 'PENDING') {
        return invalid('orderId', `A ${payment.status} payment cannot be voided.`);
      }
      const status = payment.capturedAmount > 0 ? 'CAPTURED' : 'VOIDED';
      return {
        amount: payment.amount - payment.capturedAmount,
        claim: { where: { status: payment.status, capturedAmount: payment.capturedAmount }, data: { status } },
        undo: { status: payment.status },
      };
    });
  }

  /** Refunds an amount, or lines (their price with their share of the tax), of what was captured. */
  refund(request: OperationRequest & { amount?: number | null; lines?: RefundLine[] | null }): Promise<Outcome<Order>> {
    const lines = request.lines ?? [];
    const parts = { amount: request.amount ?? null, lines };
    return this.operate(request, 'REFUND', parts, async (payment, order) => {
      const refundable = payment.capturedAmount - payment.refundedAmount;
      if (!lines.length && request.amount == null) return invalid('amount', 'Give an amount or lines to refund.');
      const held = lines.length ? await this.holdLines(order, lines) : [];
      if ('userErrors' in held) return held;
      const amount = request.amount ?? held.reduce((sum, line) => sum + line.amount, 0);
      if (refundable === 0) return invalid('orderId', 'Nothing captured is left to refund.');
      if (amount < 1 || amount > refundable) {
        return invalid('amount', `Refund between ${this.format(1, order)} and ${this.format(refundable, order)}.`);
      }
      // Conditioned on what is left, not on nothing having changed: refunds that fit may run side by side.
      return {
        amount,
        lines: held,
        claim: {
          where: { refundedAmount: { lte: payment.capturedAmount - amount } },
          data: { refundedAmount: { increment: amount } },
        },
        undo: { refundedAmount: { decrement: amount } },
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

  /** Settles operations whose process died or stalled after claiming them: asks the processor whether each
   * happened, then records it or gives its hold back. Returns how many it settled. */
  async recoverOperations(): Promise<number> {
    const stale = await this.prisma.paymentOperation.findMany({
      where: { status: 'PENDING', leaseUntil: { lt: new Date() } },
      include: { payment: true },
      take: 50,
    });
    let settled = 0;
    for (const operation of stale) {
      if (!(await this.takeOver(operation.key))) continue;
      const provider = this.providers.get(operation.payment.provider)!;
      if (await provider.operationDone(operation.key)) await this.record(operation, operation.payment.orderId);
      else await this.giveBack(operation);
      settled += 1;
    }
    return settled;
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

  /**
   * One idempotent operation: replay its key, or claim it with what it holds (so racing requests cannot exceed the
   * amounts), call the processor outside the transaction, then record the outcome or give the hold back.
   */
  private async operate(
    request: OperationRequest,
    kind: Kind,
    parts: object,
    plan: (payment: Payment, order: Order) => Promise<Outcome<never> | Plan>,
  ): Promise<Outcome<Order>> {
    const keyProblem = idempotencyKeyProblem(request.idempotencyKey);
    if (keyProblem) return fail(keyProblem);
    const fingerprint = fingerprintOf({ kind, orderId: request.orderId, ...parts });
    for (let attempt = 1; ; attempt++) {
      const previous = await this.prisma.paymentOperation.findUnique({ where: { key: request.idempotencyKey } });
      if (previous) return this.replay(previous, fingerprint, request.orderId);
      const [payment, order] = await Promise.all([
        this.prisma.payment.findFirst({ where: { orderId: request.orderId }, orderBy: { createdAt: 'desc' } }),
        this.prisma.order.findUnique({ where: { id: request.orderId } }),
      ]);
      if (!payment || !order || order.status === 'CHECKOUT' || order.status === 'ABANDONED') {
        return fail(userError(['orderId'], 'NOT_FOUND', 'No payment for this order.'));
      }
      const planned = await plan(payment, order);
      if ('userErrors' in planned) {
        // The payment may look done because a request with this very key just did it: replay that instead.
        const sameKey = await this.prisma.paymentOperation.findUnique({ where: { key: request.idempotencyKey } });
        return sameKey ? this.replay(sameKey, fingerprint, request.orderId) : planned;
      }
      const claimed = await this.claim(request, kind, fingerprint, payment, planned);
      if (claimed === 'replay') continue;
      if (claimed === 'lost') {
        // Another operation changed the payment after it was read: plan again from what it is now.
        if (attempt < 5) continue;
        return fail(userError(['orderId'], 'CONFLICT', 'The payment changed meanwhile; read it again.'));
      }
      return this.execute(claimed, payment, request.orderId);
    }
  }

  private async replay(previous: PaymentOperation, fingerprint: string, orderId: string): Promise<Outcome<Order>> {
    if (previous.fingerprint !== fingerprint) return fail(keyReused());
    if (previous.status === 'PENDING') {
      if (previous.leaseUntil > new Date() || !(await this.takeOver(previous.key))) return stillRunning();
      const payment = await this.prisma.payment.findUniqueOrThrow({ where: { id: previous.paymentId } });
      const provider = this.providers.get(payment.provider)!;
      if (!(await provider.operationDone(previous.key))) return this.execute(previous, payment, orderId);
      return this.record(previous, orderId);
    }
    return succeed(await this.prisma.order.findUniqueOrThrow({ where: { id: orderId } }));
  }

  private async claim(
    request: OperationRequest,
    kind: Kind,
    fingerprint: string,
    payment: Payment,
    planned: Plan,
  ): Promise<PaymentOperation | 'replay' | 'lost'> {
    return this.prisma
      .$transaction(async (tx) => {
        // The key first: a concurrent request with the same key waits on it, then replays this one's result.
        const operation = await tx.paymentOperation.create({
          data: {
            key: request.idempotencyKey,
            paymentId: payment.id,
            kind,
            amount: planned.amount,
            final: Boolean(planned.final),
            lines: (planned.lines ?? []) as unknown as Prisma.InputJsonArray,
            fingerprint,
            leaseUntil: new Date(Date.now() + this.leaseMs),
            accountId: request.actorId,
            note: request.note ?? null,
          },
        });
        const { count } = await tx.payment.updateMany({
          where: { id: payment.id, ...planned.claim.where },
          data: planned.claim.data,
        });
        if (!count) throw new ClaimLost();
        for (const line of planned.lines ?? []) {
          const held = await tx.$executeRaw`
            UPDATE order_line SET refunded_quantity = refunded_quantity + ${line.quantity},
              removed_quantity = removed_quantity + ${line.removed}
            WHERE id = ${line.orderLineId}::uuid AND refunded_quantity + ${line.quantity} <= quantity
              AND fulfilled_quantity + removed_quantity + ${line.removed} <= quantity`;
          if (!held) throw new ClaimLost();
        }
        return operation;
      })
      .catch((error: unknown) => {
        if (error instanceof ClaimLost) return 'lost' as const;
        if (databaseErrorOf(error) === 'unique') return 'replay' as const;
        throw error;
      });
  }

  /** Calls the processor for a claimed operation, then records it; a refusal gives the hold back. */
  private async execute(operation: PaymentOperation, payment: Payment, orderId: string): Promise<Outcome<Order>> {
    const provider = this.providers.get(payment.provider)!;
    const call = {
      reference: payment.providerReference ?? payment.id,
      amount: operation.amount,
      idempotencyKey: operation.key,
    };
    try {
      if (operation.kind === 'CAPTURE') await provider.capture({ ...call, final: operation.final });
      else if (operation.kind === 'VOID') await provider.void(call);
      else await provider.refund(call);
    } catch (error) {
      if (!(error instanceof TransientPaymentError)) {
        // Whether the processor did it is unknown: recovery asks it once the lease is given up.
        await this.prisma.paymentOperation.update({ where: { key: operation.key }, data: { leaseUntil: new Date() } });
        throw error;
      }
      this.logger.warn({ err: error, kind: operation.kind, paymentId: payment.id }, 'processor refused; undone');
      await this.giveBack(operation);
      return fail(requestError('PAYMENT_FAILED', 'The payment processor did not accept the operation; retry later.'));
    }
    return this.record(operation, orderId);
  }

  /** The processor did it: the operation succeeds, a refund's lines go back on hand as asked, and the order moves. */
  private async record(operation: PaymentOperation, orderId: string): Promise<Outcome<Order>> {
    return transact(this.prisma, async (tx) => {
      const { count } = await tx.paymentOperation.updateMany({
        where: { key: operation.key, status: 'PENDING' },
        data: { status: 'SUCCEEDED' },
      });
      if (!count) return tx.order.findUniqueOrThrow({ where: { id: orderId } });
      const order = await tx.order.findUniqueOrThrow({ where: { id: orderId } });
      const actor: Actor = { accountId: operation.accountId, note: operation.note ?? this.note(operation, order) };
      const lines = operation.lines as unknown as HeldLine[];
      const restocked = await tx.orderLine.findMany({
        where: { id: { in: lines.filter((line) => line.restock).map((line) => line.orderLineId) } },
      });
      await restock(
        tx,
        restocked.flatMap((line) => {
          const quantity = lines.find((held) => held.orderLineId === line.id)!.quantity;
          return line.variantId ? [{ variantId: line.variantId, quantity }] : [];
        }),
        `order #${order.number} refund`,
        operation.accountId,
      );
      const voidedUnshipped =
        operation.kind === 'VOID' && order.status === 'OPEN' && (await this.nothingCaptured(tx, operation.paymentId));
      if (voidedUnshipped && (await notShipped(tx, orderId))) return cancelOrder(tx, orderId, actor);
      return syncOrder(tx, orderId, actor, { repeatFinancial: true });
    });
  }

  private async nothingCaptured(tx: Prisma.TransactionClient, paymentId: string) {
    const payment = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
    return payment.capturedAmount === 0;
  }

  /** Undoes a claim: the hold on the payment and the lines goes, and so does the key (the client may retry it). */
  private async giveBack(operation: PaymentOperation): Promise<void> {
    const undo: Prisma.PaymentUpdateInput =
      operation.kind === 'CAPTURE'
        ? { capturedAmount: { decrement: operation.amount }, status: 'AUTHORIZED' }
        : operation.kind === 'REFUND'
          ? { refundedAmount: { decrement: operation.amount } }
          : { status: await this.statusBeforeVoid(operation) };
    await this.prisma.$transaction(async (tx) => {
      await tx.paymentOperation.delete({ where: { key: operation.key } });
      await tx.payment.update({ where: { id: operation.paymentId }, data: undo });
      for (const line of operation.lines as unknown as HeldLine[]) {
        await tx.$executeRaw`
          UPDATE order_line SET refunded_quantity = refunded_quantity - ${line.quantity},
            removed_quantity = removed_quantity - ${line.removed}
          WHERE id = ${line.orderLineId}::uuid`;
      }
    });
  }

  private async statusBeforeVoid(operation: PaymentOperation): Promise<Payment['status']> {
    const payment = await this.prisma.payment.findUniqueOrThrow({ where: { id: operation.paymentId } });
    return payment.providerReference || payment.capturedAmount > 0 ? 'AUTHORIZED' : 'PENDING';
  }

  /** Takes over an operation whose lease ran out; false when another process got there first. */
  private async takeOver(key: string): Promise<boolean> {
    const { count } = await this.prisma.paymentOperation.updateMany({
      where: { key, status: 'PENDING', leaseUntil: { lt: new Date() } },
      data: { leaseUntil: new Date(Date.now() + this.leaseMs) },
    });
    return count === 1;
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

  private note(operation: PaymentOperation, order: Order): string {
    const amount = this.format(operation.amount, order);
    if (operation.kind === 'CAPTURE') return `captured ${amount}${operation.final ? ' (final capture)' : ''}`;
    if (operation.kind === 'VOID') return 'authorization voided';
    return `refunded ${amount}`;
  }

  private format(minorUnits: number, order: Pick<Order, 'currencyCode'>) {
    const { amount, currencyCode } = money(minorUnits, order.currencyCode);
    return `${amount} ${currencyCode}`;
  }
}
