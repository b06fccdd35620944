// How an idempotent payment operation (capture, void, refund) runs, whatever it means: claimed under its key with a
// lease, its amounts (and a refund's line quantities) held in the database by conditional updates before the
// processor is called, so racing requests can never capture or refund more than there is; the processor called
// outside any transaction; its answer recorded with the order's moves in one transaction, or the hold given back.
// An operation whose process died is settled by recoverStale once its lease ends: the processor says whether it
// happened.
import { createHash } from 'node:crypto';
import type { Order, Payment, PaymentOperation, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import { moneyText } from '../../money.js';
import { restock } from '../inventory/index.js';
import { cancelOrder, notShipped, syncOrder, type Actor } from '../order/index.js';
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

export interface OperationRequest {
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

export interface HeldLine extends RefundLine {
  /** Of `quantity`, the units taken off what is left to ship (refunded before they were packed). */
  removed: number;
  /** Their price and their share of the order's tax. */
  amount: number;
}

type Kind = PaymentOperation['kind'];

/** What an operation holds on the payment and the lines, under which condition. */
export interface Plan {
  amount: number;
  final?: boolean;
  claim: { where: Prisma.PaymentWhereInput; data: Prisma.PaymentUpdateManyMutationInput };
  lines?: HeldLine[];
}

class ClaimLost extends Error {}

const fingerprintOf = (parts: unknown) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');
const stillRunning = () =>
  fail(requestError('CONFLICT', 'An operation with this idempotency key is still running; retry in 2 seconds.'));

export class PaymentOperations {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly logger: Logger,
    private readonly leaseMs: number,
  ) {}

  /** Settles operations whose process died or stalled after claiming them: asks the processor whether each
   * happened, then records it or gives its hold back. Returns how many it settled. */
  async recoverStale(): Promise<number> {
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
   * One idempotent operation: replay its key, or claim it with what it holds (so racing requests cannot exceed the
   * amounts), call the processor outside the transaction, then record the outcome or give the hold back.
   */
  async run(
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

  private note(operation: PaymentOperation, order: Order): string {
    const amount = moneyText(operation.amount, order.currencyCode);
    if (operation.kind === 'CAPTURE') return `captured ${amount}${operation.final ? ' (final capture)' : ''}`;
    if (operation.kind === 'VOID') return 'authorization voided';
    return `refunded ${amount}`;
  }
}
