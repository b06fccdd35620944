// checkoutComplete: cart -> reserved stock -> hidden order -> payment authorization -> placed order (or released
// stock and an abandoned attempt). The processor is called between two transactions, never inside one.
//
// The idempotency key is a lease on the checkout: the process holding it drives the checkout to a final state and
// records that state with the order, in one transaction. If the process dies or stalls, its lease runs out, and a
// retry with the same key (or the recovery worker, see recovery.ts) takes the attempt over and finishes it: the
// authorization is asked for again under the same processor key, which returns the first answer rather than
// charging twice, or looked up at the processor. A key is never replayed for another request.
import { createHash } from 'node:crypto';
import type { CheckoutAttempt, Order, Payment, PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import { currentCartTotal, placeOrder } from './placement.js';
import { finishAttempt, paymentFailed, recordAnswer } from './settlement.js';
import {
  TransientPaymentError,
  type AuthorizeResult,
  type PaymentProvider,
  type PaymentService,
} from '../payment/index.js';
import {
  fail,
  idempotencyKeyProblem,
  keyReused,
  requestError,
  succeed,
  transact,
  userError,
  type Outcome,
  type UserError,
} from '../userErrors.js';

export interface CheckoutRequest {
  cartId: string;
  provider: string;
  token: string;
  idempotencyKey: string;
}

export interface CheckoutSettings {
  currency: string;
  reservationMinutes: number;
  /** How long a process may hold a checkout's key before another may take it over. */
  leaseMs: number;
  /** How long a retry waits for the checkout holding its key before answering CONFLICT. */
  replayWaitMs: number;
}

/** An order that costs nothing is placed without asking a processor. */
const FREE: AuthorizeResult = { status: 'authorized', reference: 'no charge' };
const REPLAY_POLL_MS = 50;

const stillRunning = (seconds: number) =>
  requestError(
    'CONFLICT',
    `A checkout with this idempotency key is still running; retry with the same key in ${seconds} s.`,
  );
const fingerprintOf = (request: CheckoutRequest) =>
  createHash('sha256')
    .update(JSON.stringify([request.cartId, request.provider, request.token]))
    .digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CheckoutService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly payments: PaymentService,
    private readonly settings: CheckoutSettings,
    private readonly logger: Logger,
  ) {}

  async complete(request: CheckoutRequest): Promise<Outcome<Order>> {
    const keyProblem = idempotencyKeyProblem(request.idempotencyKey);
    if (keyProblem) return fail(keyProblem);
    const provider = this.providers.get(request.provider);
    if (!provider) {
      return fail(userError(['payment', 'provider'], 'INVALID', `Unknown payment provider "${request.provider}".`));
    }
    const fingerprint = fingerprintOf(request);
    const deadline = Date.now() + this.settings.replayWaitMs;
    for (;;) {
      const claimed = await this.prisma.$executeRaw`
        INSERT INTO checkout_attempt (key, cart_id, fingerprint, lease_until, created_at)
        VALUES (${request.idempotencyKey}, ${request.cartId}::uuid, ${fingerprint}, ${this.leaseEnd()}, now())
        ON CONFLICT (key) DO NOTHING`;
      if (claimed) return this.drive(request, provider, null);
      const attempt = await this.prisma.checkoutAttempt.findUnique({ where: { key: request.idempotencyKey } });
      if (!attempt) continue; // freed meanwhile: claim it
      if (attempt.fingerprint !== fingerprint) return fail(keyReused());
      if (attempt.finishedAt) return (await this.cartRepriced(attempt)) ? fail(keyReused()) : this.replay(attempt);
      if (attempt.leaseUntil <= new Date() && (await this.takeOver(attempt.key))) {
        return this.drive(request, provider, attempt);
      }
      if (Date.now() > deadline) {
        const seconds = Math.max(1, Math.ceil((attempt.leaseUntil.getTime() - Date.now()) / 1000));
        return fail(stillRunning(Math.min(seconds, 5)));
      }
      await sleep(REPLAY_POLL_MS);
    }
  }

  /**
   * Finishes an attempt whose process died or stalled, without the shopper's card token: the processor is asked
   * what it answered under the attempt's key. Used by the recovery worker. Returns whether it settled one.
   */
  async recover(key: string): Promise<boolean> {
    if (!(await this.takeOver(key))) return false;
    const attempt = await this.prisma.checkoutAttempt.findUniqueOrThrow({ where: { key } });
    const placed = attempt.orderId ? await this.placedState(attempt.orderId) : null;
    if (!placed) {
      // Nothing durable happened (the first transaction never committed): free the key for the shopper's retry.
      await this.prisma.checkoutAttempt.deleteMany({ where: { key, finishedAt: null } });
      return true;
    }
    const { order, payment } = placed;
    if (order.status !== 'CHECKOUT') {
      await finishAttempt(this.prisma, key, order);
      return true;
    }
    const provider = payment && this.providers.get(payment.provider);
    const answer = payment ? await provider!.lookup(payment.idempotencyKey!) : FREE;
    // Never reached the processor: nothing is charged, so the checkout is abandoned and its key freed.
    await this.settle(attempt, order, payment, answer ?? 'failed');
    this.logger.warn({ orderId: order.id, answer: answer?.status ?? 'none' }, 'recovered a stalled checkout');
    return true;
  }

  /** Checkouts whose lease ran out with no one finishing them. */
  async staleAttempts(limit = 50): Promise<string[]> {
    const stale = await this.prisma.checkoutAttempt.findMany({
      where: { finishedAt: null, leaseUntil: { lt: new Date() } },
      select: { key: true },
      take: limit,
    });
    return stale.map(({ key }) => key);
  }

  /** Holds the key's lease (from the first claim, or taken over) and drives the checkout to a final state. */
  private async drive(
    request: CheckoutRequest,
    provider: PaymentProvider,
    attempt: CheckoutAttempt | null,
  ): Promise<Outcome<Order>> {
    const key = request.idempotencyKey;
    let placed = attempt?.orderId ? await this.placedState(attempt.orderId) : null;
    if (placed && placed.order.status !== 'CHECKOUT') {
      await finishAttempt(this.prisma, key, placed.order);
      return this.replay(await this.prisma.checkoutAttempt.findUniqueOrThrow({ where: { key } }));
    }
    if (!placed) {
      const made = await transact(this.prisma, (tx) => placeOrder(tx, request, provider.name, this.settings));
      if (!made.value) {
        // A cart problem: nothing was reserved, so the key is free for the corrected cart.
        await this.prisma.checkoutAttempt.deleteMany({ where: { key, finishedAt: null } });
        return made;
      }
      placed = made.value;
    }
    const { order, payment } = placed;
    const current = await this.prisma.checkoutAttempt.findUniqueOrThrow({ where: { key } });
    let answer: AuthorizeResult | 'failed';
    try {
      answer = payment
        ? await provider.authorize({
            amount: order.totalAmount,
            currencyCode: order.currencyCode,
            token: request.token,
            idempotencyKey: payment.idempotencyKey!,
          })
        : FREE;
    } catch (error) {
      if (!(error instanceof TransientPaymentError)) {
        await this.giveUpLease(key);
        throw error; // whether the processor authorized is unknown: a retry or recovery asks it again
      }
      answer = 'failed';
    }
    try {
      return await this.settle(current, order, payment, answer);
    } catch (error) {
      await this.giveUpLease(key);
      throw error;
    }
  }

  /**
   * Transaction 2: records the processor's answer with the order, the stock, the cart and the attempt. When the
   * order is no longer being checked out (another process settled it), the answer already recorded stands, and an
   * authorization it cannot use is voided.
   */
  private async settle(
    attempt: CheckoutAttempt,
    order: Order,
    payment: Payment | null,
    answer: AuthorizeResult | 'failed',
  ): Promise<Outcome<Order>> {
    const settled = await this.prisma.$transaction((tx) => recordAnswer(tx, attempt, order, payment, answer));
    if (settled !== 'taken') return settled;
    // Settled elsewhere (recovery, or a retry that took the lease over). An authorization this process holds that
    // no recorded outcome uses (a later attempt under the same key may have got it from the processor) must not
    // stay open.
    const now = await this.placedState(order.id);
    const usedElsewhere =
      answer !== 'failed' &&
      answer.status !== 'declined' &&
      (await this.prisma.payment.count({
        where: { providerReference: answer.reference, status: { in: ['AUTHORIZED', 'CAPTURED', 'PENDING'] } },
      })) > 0;
    if (
      payment &&
      !usedElsewhere &&
      now?.order.status === 'ABANDONED' &&
      answer !== 'failed' &&
      answer.status !== 'declined' &&
      now.payment?.status !== 'VOIDED'
    ) {
      await this.payments.voidAtProcessor(
        { ...now.payment!, providerReference: answer.reference },
        'checkout was abandoned',
      );
    }
    const finished = await this.prisma.checkoutAttempt.findUnique({ where: { key: attempt.key } });
    return finished?.finishedAt ? this.replay(finished) : fail(paymentFailed());
  }

  /** Whether the attempt's cart (still there: its checkout placed no order) now costs something else, which makes a
   * retry under its key another request. */
  private async cartRepriced(attempt: CheckoutAttempt): Promise<boolean> {
    if (attempt.amount === null) return false;
    const total = await currentCartTotal(this.prisma, attempt.cartId);
    return total !== null && total !== attempt.amount;
  }

  /** The attempt's answer once it has finished: the order it placed, or the refusal it ended with. */
  private async replay(attempt: CheckoutAttempt): Promise<Outcome<Order>> {
    const order = attempt.orderId ? await this.prisma.order.findUnique({ where: { id: attempt.orderId } }) : null;
    if (order && order.status !== 'ABANDONED' && order.status !== 'CHECKOUT') return succeed(order);
    return fail(...((attempt.userErrors as unknown as UserError[] | null) ?? [paymentFailed()]));
  }

  private async placedState(orderId: string) {
    const order = await this.prisma.order.findUnique({ where: { id: orderId } });
    if (!order) return null;
    const payment = await this.prisma.payment.findFirst({ where: { orderId } });
    return { order, payment };
  }

  /** Takes over an attempt whose lease ran out; false when another process got there first. */
  private async takeOver(key: string): Promise<boolean> {
    const taken = await this.prisma.$executeRaw`
      UPDATE checkout_attempt SET lease_until = ${this.leaseEnd()}
      WHERE key = ${key} AND finished_at IS NULL AND lease_until <= now()`;
    return taken === 1;
  }

  /** Lets a retry or recovery take the attempt over at once (this process cannot finish it now). */
  private async giveUpLease(key: string): Promise<void> {
    await this.prisma.checkoutAttempt
      .updateMany({ where: { key, finishedAt: null }, data: { leaseUntil: new Date() } })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not give up a checkout lease'));
  }

  private leaseEnd() {
    return new Date(Date.now() + this.settings.leaseMs);
  }
}
