// The transactional outbox: domain events are rows written in the transaction of the change that causes them, so
// an event exists if and only if its change committed. The relay (relay.ts) delivers them until delivered.
import { EventEmitter } from 'node:events';
import type { OrderEventKind, Prisma } from '../generated/prisma/client.js';

export interface OrderMove {
  kind: OrderEventKind;
  from: string | null;
  to: string;
  fulfillmentId?: string;
}

export interface OrderChanged {
  orderId: string;
  moves: OrderMove[];
}

export type OutboxMessage = { topic: 'order.changed'; payload: OrderChanged };

const written = new EventEmitter().setMaxListeners(0);

/** Calls `listener` each time this process writes an event (before its transaction commits); returns a function
 * that stops it. The relay uses it to deliver soon after a change instead of waiting for its next round. */
export function onOutboxWritten(listener: () => void): () => void {
  written.on('written', listener);
  return () => written.off('written', listener);
}

export async function recordOrderChange(
  tx: Prisma.TransactionClient,
  orderId: string,
  moves: OrderMove[],
): Promise<void> {
  const payload: OrderChanged = { orderId, moves };
  await tx.outboxEvent.create({
    data: { topic: 'order.changed', payload: payload as unknown as Prisma.InputJsonObject },
  });
  written.emit('written');
}
