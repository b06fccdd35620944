// The emails an order's customer gets as it moves: a confirmation when paid, a notice with tracking when shipped.
// Run as jobs (src/jobs/queue.ts); each writes its email to the outbox, which the mailer sends.
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { JobHandler, JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import { enqueueEmail } from '../../mail/outbox.js';
import { money } from '../../money.js';
import type { OrderStatusBus } from './statusBus.js';

const JOB_FOR_STATUS: Partial<Record<string, string>> = { PAID: 'order.confirmation', SHIPPED: 'order.shipped' };

/** Queues the job a status change calls for; the job ID makes it once per order and status, on any instance. */
export function notifyOnStatusChange(bus: OrderStatusBus, queue: JobQueue, logger: Logger) {
  bus.onChange((change) => {
    const job = JOB_FOR_STATUS[change.status];
    if (!job) return;
    queue.add(job, { orderId: change.orderId }, `${job}-${change.orderId}`).catch((error: unknown) => {
      logger.error({ err: error, job, orderId: change.orderId }, 'queueing a job failed');
    });
  });
}

export function orderEmailJobs(prisma: PrismaClient): JobHandler {
  return async (name, { orderId }) => {
    const order = await prisma.order.findUniqueOrThrow({ where: { id: orderId }, include: { lines: true } });
    const lines = order.lines.map((l) => `  ${l.quantity} × ${l.productTitle} (${l.variantTitle})`).join('\n');
    const email =
      name === 'order.confirmation'
        ? {
            subject: `Order #${order.number} confirmed`,
            body: `Thank you for your order #${order.number}.\n\n${lines}\n\nTotal: ${money(order.totalAmount, order.currencyCode).amount} ${order.currencyCode}\n`,
          }
        : {
            subject: `Order #${order.number} is on its way`,
            body: `Your order #${order.number} has shipped with ${order.carrier ?? 'our carrier'}${order.trackingNumber ? `, tracking number ${order.trackingNumber}` : ''}.\n`,
          };
    await prisma.$transaction((tx) => enqueueEmail(tx, { to: order.email, ...email }));
  };
}
