// What an order's moves set off: every move is pushed to the order's subscribers, and some call for an email (a
// confirmation once the order is authorized or paid, a notice with tracking when a shipment leaves). Called by the
// outbox relay for each order.changed event; the emails are jobs (src/jobs/queue.ts) whose IDs make each one once
// per order or shipment, however often the event is delivered.
import type { OrderChanged, OutboxMessage } from '../../events/outbox.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { JobHandler, JobQueue } from '../../jobs/queue.js';
import { enqueueEmail } from '../../mail/outbox.js';
import { money } from '../../money.js';
import type { OrderStatusBus } from './statusBus.js';

const PLACED_FROM = new Set(['PENDING']);

/** The jobs a change calls for, with their job IDs. */
export function jobsFor({ orderId, moves }: OrderChanged) {
  return moves.flatMap((move) => {
    if (move.kind === 'FINANCIAL' && PLACED_FROM.has(move.from ?? '') && ['AUTHORIZED', 'PAID'].includes(move.to)) {
      return [{ name: 'order.confirmation', data: { orderId }, id: `order.confirmation-${orderId}` }];
    }
    if (move.kind === 'SHIPMENT' && move.to === 'SHIPPED' && move.fulfillmentId) {
      const data = { orderId, fulfillmentId: move.fulfillmentId };
      return [{ name: 'order.shipped', data, id: `order.shipped-${move.fulfillmentId}` }];
    }
    return [];
  });
}

/** Delivers one outbox event: to subscribers (on every instance), and as the jobs it calls for. Throws if either
 * fails, so the relay tries again. */
export const deliverOrderEvents =
  (bus: OrderStatusBus, queue: JobQueue) =>
  async ({ payload }: OutboxMessage): Promise<void> => {
    await bus.publish(payload.orderId);
    for (const job of jobsFor(payload)) await queue.add(job.name, job.data, job.id);
  };

export function orderEmailJobs(prisma: PrismaClient): JobHandler {
  return async (name, { orderId, fulfillmentId }) => {
    const order = await prisma.order.findUniqueOrThrow({ where: { id: orderId }, include: { lines: true } });
    let email;
    if (name === 'order.confirmation') {
      const lines = order.lines.map((l) => `  ${l.quantity} × ${l.productTitle} (${l.variantTitle})`).join('\n');
      const total = money(order.totalAmount, order.currencyCode);
      email = {
        subject: `Order #${order.number} confirmed`,
        body: `Thank you for your order #${order.number}.\n\n${lines}\n\nTotal: ${total.amount} ${order.currencyCode}\n`,
      };
    } else {
      const shipment = await prisma.fulfillment.findUniqueOrThrow({ where: { id: fulfillmentId } });
      email = {
        subject: `Order #${order.number} is on its way`,
        body: `Your order #${order.number} has shipped with ${shipment.carrier}, tracking number ${shipment.trackingNumber}.\n`,
      };
    }
    await prisma.$transaction((tx) => enqueueEmail(tx, { to: order.email, ...email }));
  };
}
