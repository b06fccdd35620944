// Orders after checkout: shipments (packed, shipped, delivered), cancelling, and the lists customers and staff read.
// Only placed orders are ever listed or found: a checkout being decided or abandoned is nobody's order.
import type { Fulfillment, Order, OrderStatus, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { idsCreatedBetween } from '../../db/timeOrderedIds.js';
import { newestFirst, type Connection, type PageArgs } from '../../graphql/connection.js';
import { badUserInput } from '../../graphql/errors.js';
import { MAX_EMAIL_LENGTH } from '../account/index.js';
import { fail, Rollback, transact, userError, type Outcome } from '../userErrors.js';
import { cancelOrder } from './cancellation.js';
import { FULFILLABLE_FINANCIAL, unitsToShip } from './derive.js';
import { canMove, lockOrder, VISIBLE_STATUSES } from './stateMachines.js';
import { syncOrder } from './sync.js';
import type { OrderLookupThrottle } from './lookupThrottle.js';

export interface OrderListFilter {
  status?: OrderStatus | null;
  financialStatus?: Order['financialStatus'] | null;
  fulfillmentStatus?: Order['fulfillmentStatus'] | null;
  accountId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** What cancelling needs from payments (implemented by the payment module, which depends on this one). */
export interface PaymentReversal {
  /** Voids an open authorization and, when `refund`, refunds what was captured. */
  reverseForCancellation(
    orderId: string,
    actorId: string | null,
    refund: boolean,
    note?: string | null,
  ): Promise<Outcome<null>>;
}

export interface ShipmentRequest {
  /** Lines and units to pack; every unit left to ship when omitted. */
  lines?: { orderLineId: string; quantity: number }[] | null;
  carrier: string;
  trackingNumber: string;
}

export class OrderService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly payments: PaymentReversal,
    private readonly lookups: OrderLookupThrottle,
  ) {}

  /** Packs units of the order's lines into a new shipment with its carrier and tracking number. */
  async fulfill(actorId: string, orderId: string, request: ShipmentRequest): Promise<Outcome<Fulfillment>> {
    const carrier = request.carrier.trim();
    const trackingNumber = request.trackingNumber.trim();
    if (!carrier || !trackingNumber || carrier.length > 100 || trackingNumber.length > 100) {
      return fail(userError(['carrier'], 'INVALID', 'Give a carrier and a tracking number of 1 to 100 characters.'));
    }
    return transact(this.prisma, async (tx) => {
      const order = await this.lockVisible(tx, orderId);
      if (order.status !== 'OPEN') throw conflict(`An order that is ${order.status} cannot be fulfilled.`);
      if (!FULFILLABLE_FINANCIAL.includes(order.financialStatus)) {
        throw conflict(`An order whose payment is ${order.financialStatus} cannot be fulfilled.`);
      }
      const lines = await tx.orderLine.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
      const wanted = request.lines ?? lines.map((line) => ({ orderLineId: line.id, quantity: unitsToShip(line) }));
      const packing = wanted.filter((line) => line.quantity !== 0);
      if (!packing.length) throw conflict('Nothing is left to ship.');
      for (const [index, line] of packing.entries()) {
        const row = lines.find((candidate) => candidate.id === line.orderLineId);
        if (!row)
          throw new Rollback(
            userError(['lines', String(index), 'orderLineId'], 'NOT_FOUND', 'Not a line of this order.'),
          );
        if (line.quantity < 1 || line.quantity > unitsToShip(row)) {
          throw new Rollback(
            userError(
              ['lines', String(index), 'quantity'],
              'INVALID',
              `${row.sku}: 1 to ${unitsToShip(row)} units are left to ship.`,
            ),
          );
        }
        await tx.orderLine.update({ where: { id: row.id }, data: { fulfilledQuantity: { increment: line.quantity } } });
      }
      const shipment = await tx.fulfillment.create({
        data: {
          orderId,
          carrier,
          trackingNumber,
          lines: { create: packing.map(({ orderLineId, quantity }) => ({ orderLineId, quantity })) },
        },
      });
      await syncOrder(tx, orderId, { accountId: actorId, note: `packed for ${carrier} ${trackingNumber}` });
      return shipment;
    });
  }

  markShipped(actorId: string, fulfillmentId: string, note?: string | null) {
    return this.moveShipment(actorId, fulfillmentId, 'SHIPPED', note);
  }

  markDelivered(actorId: string, fulfillmentId: string, note?: string | null) {
    return this.moveShipment(actorId, fulfillmentId, 'DELIVERED', note);
  }

  /**
   * Cancels an order nothing of which has shipped: an open authorization is voided (and what was captured refunded
   * when `refund`), then the stock goes back and packed shipments are cancelled. `actorId` null: the system.
   */
  async cancel(
    actorId: string | null,
    orderId: string,
    options: { note?: string | null; refund?: boolean | null } = {},
  ): Promise<Outcome<Order>> {
    const order = await this.prisma.order.findUnique({ where: { id: orderId } });
    if (!order || !VISIBLE_STATUSES.includes(order.status)) {
      return fail(userError(['orderId'], 'NOT_FOUND', 'No order with this ID.'));
    }
    if (order.status !== 'OPEN') {
      return fail(userError(['orderId'], 'CONFLICT', `An order that is ${order.status} cannot be cancelled.`));
    }
    const shipped = await this.prisma.fulfillment.findFirst({
      where: { orderId, status: { in: ['SHIPPED', 'DELIVERED'] } },
    });
    if (shipped)
      return fail(userError(['orderId'], 'CONFLICT', 'Part of this order has shipped; it cannot be cancelled.'));
    // Money first, at the processor: if it refuses, nothing about the order has changed.
    const reversed = await this.payments.reverseForCancellation(
      orderId,
      actorId,
      Boolean(options.refund),
      options.note,
    );
    if (!reversed.value && reversed.userErrors.length) return reversed;
    return transact(this.prisma, async (tx) => {
      const now = await lockOrder(tx, orderId);
      if (now?.status === 'CANCELLED') return now; // voiding an unshipped order cancelled it already
      return cancelOrder(tx, orderId, { accountId: actorId, note: options.note });
    });
  }

  list(filter: OrderListFilter, args: PageArgs): Promise<Connection<Order>> {
    const where: Prisma.OrderWhereInput = {
      status: filter.status ?? { in: VISIBLE_STATUSES },
      ...(filter.financialStatus && { financialStatus: filter.financialStatus }),
      ...(filter.fulfillmentStatus && { fulfillmentStatus: filter.fulfillmentStatus }),
      ...(filter.accountId && { accountId: filter.accountId }),
      ...((filter.createdAfter || filter.createdBefore) && {
        createdAt: {
          ...(filter.createdAfter && { gte: filter.createdAfter }),
          ...(filter.createdBefore && { lt: filter.createdBefore }),
        },
        id: idsCreatedBetween(filter.createdAfter, filter.createdBefore),
      }),
    };
    return newestFirst(args, {
      findMany: ({ idAfter, descending, take }) =>
        this.prisma.order.findMany({
          where: idAfter ? { AND: [where, { id: idAfter }] } : where,
          orderBy: { id: descending ? 'desc' : 'asc' },
          take,
        }),
      count: () => this.prisma.order.count({ where }),
    });
  }

  /** Guest tracking: both the number and the email must match, so numbers alone reveal nothing. */
  /** Throttled per client address and per order number (OrderLookupThrottle). */
  async findByNumber(number: number, email: string, clientAddress: string): Promise<Order | null> {
    if (email.length > MAX_EMAIL_LENGTH) {
      throw badUserInput(`Email must be at most ${MAX_EMAIL_LENGTH} characters.`, 'email');
    }
    return this.lookups.guard(number, clientAddress, async () => {
      // Compared here, not with Prisma's case-insensitive `equals`: that is an ILIKE, where `%` matches any email.
      const order = await this.prisma.order.findUnique({ where: { number } });
      return order && order.email.toLowerCase() === email.trim().toLowerCase() ? order : null;
    });
  }

  private async moveShipment(
    actorId: string,
    fulfillmentId: string,
    to: 'SHIPPED' | 'DELIVERED',
    note?: string | null,
  ): Promise<Outcome<Fulfillment>> {
    return transact(this.prisma, async (tx) => {
      const shipment = await tx.fulfillment.findUnique({ where: { id: fulfillmentId } });
      if (!shipment) throw new Rollback(userError(['fulfillmentId'], 'NOT_FOUND', 'No fulfillment with this ID.'));
      await this.lockVisible(tx, shipment.orderId);
      const current = await tx.fulfillment.findUniqueOrThrow({ where: { id: fulfillmentId } });
      if (!canMove('SHIPMENT', current.status, to)) {
        throw new Rollback(
          userError(['fulfillmentId'], 'CONFLICT', `A fulfillment that is ${current.status} cannot become ${to}.`),
        );
      }
      const moved = await tx.fulfillment.update({ where: { id: fulfillmentId }, data: { status: to } });
      await syncOrder(
        tx,
        shipment.orderId,
        { accountId: actorId, note },
        { shipment: { fulfillmentId, from: current.status, to } },
      );
      return moved;
    });
  }

  private async lockVisible(tx: Prisma.TransactionClient, orderId: string): Promise<Order> {
    const order = await lockOrder(tx, orderId);
    if (!order || !VISIBLE_STATUSES.includes(order.status)) {
      throw new Rollback(userError(['orderId'], 'NOT_FOUND', 'No order with this ID.'));
    }
    return order;
  }
}

const conflict = (message: string) => new Rollback(userError(['orderId'], 'CONFLICT', message));
