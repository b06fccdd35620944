// The order state machine: the only moves an order can make, each recorded as an OrderEvent.
import type { Order, OrderStatus, Prisma } from '../../generated/prisma/client.js';

export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING_PAYMENT: ['PAID', 'CANCELLED'],
  PAID: ['FULFILLED', 'CANCELLED', 'PARTIALLY_REFUNDED', 'REFUNDED'],
  FULFILLED: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  REFUNDED: [],
  CANCELLED: [],
};

export const canMove = (from: OrderStatus, to: OrderStatus): boolean => TRANSITIONS[from].includes(to);

export interface Move {
  to: OrderStatus;
  accountId?: string | null;
  note?: string | null;
  /** Columns to change with the status. */
  data?: Prisma.OrderUpdateInput;
}

/** Moves the order (locked for the rest of the transaction) and records the event. Returns the order before and
 * after, or null when the order is missing or the move is not allowed from its current status. */
export async function moveOrder(
  tx: Prisma.TransactionClient,
  orderId: string,
  move: Move,
): Promise<{ before: Order; after: Order } | null> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "order" WHERE id = ${orderId}::uuid FOR UPDATE`;
  if (!locked) return null;
  const before = await tx.order.findUniqueOrThrow({ where: { id: orderId } });
  if (!canMove(before.status, move.to)) return null;
  const after = await tx.order.update({ where: { id: orderId }, data: { ...move.data, status: move.to } });
  await tx.orderEvent.create({
    data: { orderId, fromStatus: before.status, toStatus: move.to, accountId: move.accountId ?? null, note: move.note },
  });
  return { before, after };
}
