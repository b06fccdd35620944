// After a service changes an order's payment amounts or line quantities: move the order's machines to what those
// now say, closing the order once it is delivered and settled.
import type { Order, OrderEventKind, OrderStatus, Prisma } from '../../generated/prisma/client.js';
import { financialStatusOf, fulfillmentStatusOf, SETTLED_FINANCIAL } from './derive.js';
import { lockOrder, moveOrder, type Actor, type ShipmentMove } from './stateMachines.js';

export interface SyncOptions {
  /** An explicit lifecycle move (cancelling). */
  status?: OrderStatus;
  /** Record a financial event even when the status stays (another capture or refund). */
  repeatFinancial?: boolean;
  shipment?: ShipmentMove;
  data?: Prisma.OrderUncheckedUpdateInput;
}

/** The order's one payment (checkout makes one per order); null for an order that cost nothing. */
export const paymentOf = (tx: Prisma.TransactionClient, orderId: string) =>
  tx.payment.findFirst({ where: { orderId }, orderBy: { createdAt: 'desc' } });

export async function syncOrder(
  tx: Prisma.TransactionClient,
  orderId: string,
  actor: Actor,
  options: SyncOptions = {},
): Promise<Order> {
  const order = await lockOrder(tx, orderId);
  if (!order) throw new Error(`order ${orderId} vanished`);
  const [payment, lines, fulfillments] = await Promise.all([
    paymentOf(tx, orderId),
    tx.orderLine.findMany({ where: { orderId } }),
    tx.fulfillment.findMany({ where: { orderId }, select: { id: true, status: true } }),
  ]);
  const financialStatus = order.totalAmount > 0 || payment ? financialStatusOf(payment) : 'PAID';
  const fulfillmentStatus = fulfillmentStatusOf(lines);
  const delivered = fulfillments.map((f) =>
    f.id === options.shipment?.fulfillmentId ? options.shipment.to : f.status,
  );
  const closes =
    order.status === 'OPEN' &&
    !options.status &&
    fulfillmentStatus === 'FULFILLED' &&
    delivered.every((status) => status === 'DELIVERED' || status === 'CANCELLED') &&
    SETTLED_FINANCIAL.includes(financialStatus);
  const repeat: OrderEventKind[] = options.repeatFinancial ? ['FINANCIAL'] : [];
  return moveOrder(
    tx,
    order,
    { status: options.status ?? (closes ? 'CLOSED' : undefined), financialStatus, fulfillmentStatus },
    actor,
    { data: options.data, repeat, shipment: options.shipment },
  );
}
