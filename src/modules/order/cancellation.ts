// Cancelling an order that has not shipped, inside the caller's transaction: its stock goes back (released when it
// was only reserved, restocked when it was sold), shipments still in the warehouse are cancelled, and the order
// moves to CANCELLED. Money is the payment module's: it voids or refunds before this runs.
import type { Order, Prisma } from '../../generated/prisma/client.js';
import { release, restock, type StockLine } from '../inventory/index.js';
import { Rollback, userError } from '../userErrors.js';
import { lockOrder, type Actor } from './stateMachines.js';
import { syncOrder } from './sync.js';

export const notShipped = async (tx: Prisma.TransactionClient, orderId: string): Promise<boolean> =>
  !(await tx.fulfillment.findFirst({ where: { orderId, status: { in: ['SHIPPED', 'DELIVERED'] } } }));

export async function cancelOrder(tx: Prisma.TransactionClient, orderId: string, actor: Actor): Promise<Order> {
  const order = await lockOrder(tx, orderId);
  if (!order || order.status !== 'OPEN') {
    throw new Rollback(userError(['orderId'], 'CONFLICT', `An order that is ${order?.status} cannot be cancelled.`));
  }
  if (!(await notShipped(tx, orderId))) {
    throw new Rollback(userError(['orderId'], 'CONFLICT', 'Part of this order has shipped; it cannot be cancelled.'));
  }
  const lines: StockLine[] = (await tx.orderLine.findMany({ where: { orderId } })).flatMap((line) =>
    line.variantId && line.quantity > line.removedQuantity
      ? [{ variantId: line.variantId, quantity: line.quantity - line.removedQuantity }]
      : [],
  );
  if (order.financialStatus === 'PENDING') await release(tx, lines);
  else await restock(tx, lines, `order #${order.number} cancelled`, actor.accountId);
  const packed = await tx.fulfillment.findMany({ where: { orderId, status: 'PACKED' } });
  let current = order;
  for (const shipment of packed) {
    await tx.fulfillment.update({ where: { id: shipment.id }, data: { status: 'CANCELLED' } });
    current = await syncOrder(tx, orderId, actor, {
      shipment: { fulfillmentId: shipment.id, from: 'PACKED', to: 'CANCELLED' },
    });
  }
  return syncOrder(tx, current.id, actor, { status: 'CANCELLED', data: { reservedUntil: null } });
}
