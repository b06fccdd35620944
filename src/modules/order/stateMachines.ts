// An order's four state machines: its life (status), its money (financialStatus), how much of it has been packed
// (fulfillmentStatus) and each shipment's progress. Each is a table of the only moves allowed; every move is
// recorded as an OrderEvent and announced through the outbox, in the transaction that makes it.
import type {
  FinancialStatus,
  FulfillmentStatus,
  Order,
  OrderEventKind,
  OrderStatus,
  Prisma,
  ShipmentStatus,
} from '../../generated/prisma/client.js';
import { recordOrderChange, type OrderMove } from '../../events/outbox.js';

type Table<S extends string> = Readonly<Record<S, readonly S[]>>;

/** CHECKOUT and ABANDONED are internal (a checkout being decided, one whose payment failed); never shown. */
export const ORDER_STATUS: Table<OrderStatus> = {
  CHECKOUT: ['OPEN', 'ABANDONED'],
  OPEN: ['CLOSED', 'CANCELLED'],
  CLOSED: [],
  CANCELLED: [],
  ABANDONED: [],
};

/** A move to the same status is another capture or refund that leaves the status as it was. */
export const FINANCIAL_STATUS: Table<FinancialStatus> = {
  PENDING: ['AUTHORIZED', 'PAID', 'VOIDED'],
  AUTHORIZED: ['PARTIALLY_PAID', 'PAID', 'VOIDED'],
  PARTIALLY_PAID: ['PARTIALLY_PAID', 'PAID', 'PARTIALLY_REFUNDED'],
  PAID: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  REFUNDED: [],
  VOIDED: [],
};

export const FULFILLMENT_STATUS: Table<FulfillmentStatus> = {
  UNFULFILLED: ['PARTIALLY_FULFILLED', 'FULFILLED'],
  PARTIALLY_FULFILLED: ['PARTIALLY_FULFILLED', 'FULFILLED'],
  FULFILLED: [],
};

export const SHIPMENT_STATUS: Table<ShipmentStatus> = {
  PACKED: ['SHIPPED', 'DELIVERED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
};

const TABLES: Record<OrderEventKind, Table<string>> = {
  STATUS: ORDER_STATUS,
  FINANCIAL: FINANCIAL_STATUS,
  FULFILLMENT: FULFILLMENT_STATUS,
  SHIPMENT: SHIPMENT_STATUS,
};

export const canMove = (kind: OrderEventKind, from: string, to: string): boolean =>
  TABLES[kind][from]?.includes(to) ?? false;

/** A move the table does not allow: the caller's transaction rolls back and the client gets a CONFLICT. */
export class TransitionRefused extends Error {
  override name = 'TransitionRefused';
  constructor(
    readonly kind: OrderEventKind,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${kind.toLowerCase()} status cannot move from ${from} to ${to}`);
  }
}

export interface Actor {
  /** The account that caused it; null for the system (payment results, expiry, recovery). */
  accountId: string | null;
  note?: string | null;
}

/** Locks the order for the rest of the transaction and reads it; null when there is none. */
export async function lockOrder(tx: Prisma.TransactionClient, orderId: string): Promise<Order | null> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "order" WHERE id = ${orderId}::uuid FOR UPDATE`;
  return locked ? tx.order.findUniqueOrThrow({ where: { id: orderId } }) : null;
}

/**
 * Moves a locked order's machines to `to` (those that differ, and the same status again where `repeat` asks for it
 * and the table allows it), with `data` changed alongside; records an event per move and one outbox event.
 * Throws TransitionRefused for a move the tables do not allow.
 */
export async function moveOrder(
  tx: Prisma.TransactionClient,
  order: Order,
  to: { status?: OrderStatus; financialStatus?: FinancialStatus; fulfillmentStatus?: FulfillmentStatus },
  actor: Actor,
  options: { data?: Prisma.OrderUncheckedUpdateInput; repeat?: OrderEventKind[]; shipment?: ShipmentMove } = {},
): Promise<Order> {
  const moves: OrderMove[] = [];
  const consider = (kind: OrderEventKind, from: string, target: string | undefined) => {
    if (target === undefined) return;
    if (target === from && !(options.repeat?.includes(kind) && canMove(kind, from, target))) return;
    if (!canMove(kind, from, target)) throw new TransitionRefused(kind, from, target);
    moves.push({ kind, from, to: target });
  };
  consider('STATUS', order.status, to.status);
  consider('FINANCIAL', order.financialStatus, to.financialStatus);
  consider('FULFILLMENT', order.fulfillmentStatus, to.fulfillmentStatus);
  if (options.shipment) {
    const { from, to: target, fulfillmentId } = options.shipment;
    if (!canMove('SHIPMENT', from, target)) throw new TransitionRefused('SHIPMENT', from, target);
    moves.push({ kind: 'SHIPMENT', from, to: target, fulfillmentId });
  }
  const after =
    moves.length || options.data
      ? await tx.order.update({
          where: { id: order.id },
          data: {
            ...options.data,
            ...(to.status && { status: to.status }),
            ...(to.financialStatus && { financialStatus: to.financialStatus }),
            ...(to.fulfillmentStatus && { fulfillmentStatus: to.fulfillmentStatus }),
          },
        })
      : order;
  if (!moves.length) return after;
  await tx.orderEvent.createMany({
    data: moves.map((move) => ({
      orderId: order.id,
      kind: move.kind,
      fromStatus: move.from,
      toStatus: move.to,
      fulfillmentId: move.fulfillmentId ?? null,
      accountId: actor.accountId,
      note: actor.note ?? null,
    })),
  });
  // An order nobody can see yet (a checkout being decided, or abandoned) has nobody to tell.
  if (isVisible(after.status)) await recordOrderChange(tx, order.id, moves);
  return after;
}

export interface ShipmentMove {
  fulfillmentId: string;
  from: ShipmentStatus;
  to: ShipmentStatus;
}

/** Whether customers and staff see the order: it was placed (CHECKOUT and ABANDONED never were). */
export const isVisible = (status: OrderStatus): boolean => status !== 'CHECKOUT' && status !== 'ABANDONED';
export const VISIBLE_STATUSES: OrderStatus[] = ['OPEN', 'CLOSED', 'CANCELLED'];
