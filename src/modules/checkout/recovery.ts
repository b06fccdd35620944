// The recovery worker, on every instance, on a timer: finishes checkouts and payment operations whose process died
// or stalled (their lease ran out), and ends reservations whose payment never came (voiding the pending
// authorization, or confirming it when the processor says it went through). Everything it does is safe to run on
// several instances at once: each item is taken over with a conditional update first.
import type { Logger } from '../../logger.js';
import type { OrderService } from '../order/index.js';
import type { PaymentService } from '../payment/index.js';
import type { CheckoutService } from './service.js';
import type { PrismaClient } from '../../generated/prisma/client.js';

/** How long an expired reservation is held by the instance ending it. */
const CLAIM_MS = 60_000;

export interface RecoveryPass {
  checkouts: number;
  operations: number;
  reservations: number;
}

export class Recovery {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly checkout: CheckoutService,
    private readonly payments: PaymentService,
    private readonly orders: OrderService,
    private readonly logger: Logger,
  ) {}

  /** One pass over everything stuck; each item on its own, so one failure does not stop the rest. */
  async pass(now = new Date()): Promise<RecoveryPass> {
    const result: RecoveryPass = { checkouts: 0, operations: 0, reservations: 0 };
    for (const key of await this.checkout.staleAttempts()) {
      if (await this.attempt(() => this.checkout.recover(key), { key })) result.checkouts += 1;
    }
    result.operations = (await this.attempt(() => this.payments.recoverOperations(), {})) || 0;
    result.reservations = await this.expireReservations(now);
    return result;
  }

  /** Ends unpaid orders whose reservation ran out; returns how many were cancelled. */
  async expireReservations(now = new Date()): Promise<number> {
    const expired = await this.prisma.order.findMany({
      where: { status: 'OPEN', financialStatus: 'PENDING', reservedUntil: { lt: now } },
      select: { id: true },
      take: 100,
    });
    let cancelled = 0;
    for (const { id } of expired) {
      // One instance per order: the reservation is extended by a minute for whoever claims it, so another instance
      // passes it by, and it is tried again if this one dies on the way.
      const { count } = await this.prisma.order.updateMany({
        where: { id, status: 'OPEN', financialStatus: 'PENDING', reservedUntil: { lt: now } },
        data: { reservedUntil: new Date(now.getTime() + CLAIM_MS) },
      });
      if (!count) continue;
      const cancel = (orderId: string) =>
        this.orders.cancel(null, orderId, { note: 'reservation expired before the payment was confirmed' });
      if (await this.attempt(() => this.payments.expirePending(id, cancel), { orderId: id })) cancelled += 1;
    }
    return cancelled;
  }

  private async attempt<T>(work: () => Promise<T>, context: object): Promise<T | false> {
    try {
      return await work();
    } catch (error) {
      this.logger.error({ err: error, ...context }, 'recovery step failed; retried on the next pass');
      return false;
    }
  }
}

/** Runs recovery passes every `intervalMs` until stopped. */
export function startRecovery(recovery: Recovery, logger: Logger, intervalMs: number) {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= recovery
      .pass()
      .then((done) => {
        if (done.checkouts || done.operations || done.reservations) logger.info(done, 'recovery pass');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'recovery pass failed'))
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
