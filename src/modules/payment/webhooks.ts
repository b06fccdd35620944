// The processor's webhook events, verified by the route (webhookRoute.ts), applied once per event ID. Totals only
// grow, so a late or repeated event cannot take back what is recorded; a confirmation for an order whose stock
// already went back voids the authorization; one that arrives while the checkout is still recording the first
// answer is refused with RetryLater, so the processor delivers it again.
import type { Payment, PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import { cancelOrder, confirmPayment, syncOrder, type Actor } from '../order/index.js';
import type { PaymentWebhookEvent } from './provider.js';
import type { PaymentService } from './service.js';

/** A webhook that arrived before the change it reports on was recorded: the route asks for it again later. */
export class RetryLater extends Error {
  override name = 'RetryLater';
}

export class PaymentWebhooks {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly payments: PaymentService,
    private readonly logger: Logger,
  ) {}

  /** Applies a verified webhook event once; a duplicate delivery returns false and changes nothing. */
  async apply(provider: string, event: PaymentWebhookEvent): Promise<boolean> {
    let voidLate: Payment | null = null;
    const applied = await this.prisma.$transaction(async (tx) => {
      const fresh = await tx.$executeRaw`
        INSERT INTO payment_webhook_event (provider, event_id, type, received_at)
        VALUES (${provider}, ${event.id}, ${event.type}, now()) ON CONFLICT DO NOTHING`;
      if (!fresh) return false;
      const payment = await tx.payment.findFirst({ where: { provider, providerReference: event.reference } });
      if (!payment) {
        this.logger.warn({ provider, event }, 'webhook for an unknown payment');
        return true;
      }
      const system: Actor = { accountId: null, note: `${event.type} reported by ${provider}` };
      if (event.type === 'payment.authorized' && payment.status === 'PENDING') {
        const order = await tx.order.findUniqueOrThrow({ where: { id: payment.orderId } });
        // The checkout is still recording the processor's first answer: have the processor deliver this again.
        if (order.status === 'CHECKOUT') throw new RetryLater();
        if (order.status !== 'OPEN' || order.financialStatus !== 'PENDING') {
          voidLate = payment; // the reservation expired first: its stock went back, so the money must too
          return true;
        }
        await tx.payment.update({ where: { id: payment.id }, data: { status: 'AUTHORIZED' } });
        await confirmPayment(tx, order.id, system);
      } else if (event.type === 'payment.failed' && payment.status === 'PENDING') {
        await tx.payment.update({
          where: { id: payment.id },
          data: { status: 'FAILED', failureCode: 'async_failure' },
        });
        const order = await tx.order.findUniqueOrThrow({ where: { id: payment.orderId } });
        if (order.status === 'OPEN') await cancelOrder(tx, order.id, system);
      } else if (event.type === 'payment.captured' && payment.status === 'AUTHORIZED') {
        // Totals only grow: a late or repeated event cannot take back what is recorded.
        const captured = Math.max(payment.capturedAmount, Math.min(event.amount, payment.amount));
        await tx.payment.update({
          where: { id: payment.id },
          data: { capturedAmount: captured, ...(captured === payment.amount && { status: 'CAPTURED' }) },
        });
        await syncOrder(tx, payment.orderId, system, { repeatFinancial: captured > payment.capturedAmount });
      } else if (event.type === 'payment.refunded' && payment.capturedAmount > 0) {
        const refunded = Math.max(payment.refundedAmount, Math.min(event.amount, payment.capturedAmount));
        await tx.payment.update({ where: { id: payment.id }, data: { refundedAmount: refunded } });
        await syncOrder(tx, payment.orderId, system, { repeatFinancial: refunded > payment.refundedAmount });
      }
      return true;
    });
    if (voidLate) await this.payments.voidAtProcessor(voidLate, 'confirmed after its order was cancelled');
    return applied;
  }
}
