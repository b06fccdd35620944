// A payment that was waiting for the processor (3-D Secure, a bank transfer) was authorized after all: the stock it
// held is sold and the order's money moves to AUTHORIZED, in the caller's transaction.
import type { Order, Prisma } from '../../generated/prisma/client.js';
import { sell } from '../inventory/index.js';
import type { Actor } from './stateMachines.js';
import { syncOrder } from './sync.js';

export async function confirmPayment(tx: Prisma.TransactionClient, orderId: string, actor: Actor): Promise<Order> {
  const order = await tx.order.findUniqueOrThrow({ where: { id: orderId }, include: { lines: true } });
  const lines = order.lines.flatMap(({ variantId, quantity }) => (variantId ? [{ variantId, quantity }] : []));
  await sell(tx, lines, `order #${order.number}`);
  return syncOrder(tx, orderId, actor, { data: { reservedUntil: null } });
}
