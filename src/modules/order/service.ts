// Orders after checkout: staff moves through the state machine, and the lists customers and staff read.
import type { Order, OrderStatus, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { idsCreatedBetween } from '../../db/timeOrderedIds.js';
import { newestFirst, type Connection, type PageArgs } from '../../graphql/connection.js';
import { release, restock } from '../checkout/stock.js';
import { fail, succeed, userError, type Outcome } from '../userErrors.js';
import { moveOrder, type Move } from './stateMachine.js';
import type { OrderStatusBus } from './statusBus.js';

export interface OrderListFilter {
  status?: OrderStatus | null;
  accountId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

export class OrderService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly bus: OrderStatusBus | null = null,
  ) {}

  fulfill(actorId: string, orderId: string, shipment: { carrier: string; trackingNumber: string }) {
    const carrier = shipment.carrier.trim();
    const trackingNumber = shipment.trackingNumber.trim();
    if (!carrier || !trackingNumber || carrier.length > 100 || trackingNumber.length > 100) {
      return Promise.resolve(
        fail(userError(['carrier'], 'INVALID', 'Give a carrier and a tracking number of 1 to 100 characters.')),
      );
    }
    return this.move(orderId, { to: 'FULFILLED', accountId: actorId, data: { carrier, trackingNumber } });
  }

  markShipped(actorId: string, orderId: string, note?: string | null) {
    return this.move(orderId, { to: 'SHIPPED', accountId: actorId, note });
  }

  markDelivered(actorId: string, orderId: string, note?: string | null) {
    return this.move(orderId, { to: 'DELIVERED', accountId: actorId, note });
  }

  /** Cancels an order that has not shipped: reserved stock is released, sold stock goes back on hand. */
  /** `actorId` null: the system (an expired reservation). */
  cancel(actorId: string | null, orderId: string, note?: string | null) {
    return this.move(
      orderId,
      { to: 'CANCELLED', accountId: actorId, note, data: { reservedUntil: null } },
      async (tx, before) => {
        const lines = (await tx.orderLine.findMany({ where: { orderId } }))
          .filter((line): line is typeof line & { variantId: string } => line.variantId !== null)
          .map(({ variantId, quantity }) => ({ variantId, quantity }));
        if (before.status === 'PENDING_PAYMENT') await release(tx, lines);
        else await restock(tx, lines, `order #${before.number} cancelled`, actorId);
      },
    );
  }

  /** Cancels unpaid orders whose reservation has run out, giving their stock back; returns how many. */
  async expireReservations(now = new Date()): Promise<number> {
    const expired = await this.prisma.order.findMany({
      where: { status: 'PENDING_PAYMENT', reservedUntil: { lt: now } },
      select: { id: true },
      take: 100,
    });
    let cancelled = 0;
    for (const { id } of expired) {
      if ((await this.cancel(null, id, 'reservation expired before the payment was confirmed')).value) cancelled += 1;
    }
    return cancelled;
  }

  list(filter: OrderListFilter, args: PageArgs): Promise<Connection<Order>> {
    const where: Prisma.OrderWhereInput = {
      ...(filter.status && { status: filter.status }),
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
  async findByNumber(number: number, email: string): Promise<Order | null> {
    // Compared here, not with Prisma's case-insensitive `equals`: that is an ILIKE, where `%` matches any email.
    const order = await this.prisma.order.findUnique({ where: { number } });
    return order && order.email.toLowerCase() === email.trim().toLowerCase() ? order : null;
  }

  private async move(
    orderId: string,
    move: Move,
    alongside?: (tx: Prisma.TransactionClient, before: Order) => Promise<void>,
  ): Promise<Outcome<Order>> {
    const moved = await this.prisma.$transaction(async (tx) => {
      const result = await moveOrder(tx, orderId, move);
      if (result && alongside) await alongside(tx, result.before);
      return result;
    });
    if (moved) {
      this.bus?.publish(moved.after);
      return succeed(moved.after);
    }
    const order = await this.prisma.order.findUnique({ where: { id: orderId } });
    return fail(
      order
        ? userError(['orderId'], 'CONFLICT', `An order that is ${order.status} cannot become ${move.to}.`)
        : userError(['orderId'], 'NOT_FOUND', 'No order with this ID.'),
    );
  }
}
