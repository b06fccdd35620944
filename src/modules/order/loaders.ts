import type { Order, OrderEvent, OrderLine, Payment, PrismaClient } from '../../generated/prisma/client.js';
import { loaderByKey, loaderGroupedBy } from '../../db/batch.js';

export function createOrderLoaders(prisma: PrismaClient) {
  return {
    orderById: loaderByKey<string, Order>(
      (ids) => prisma.order.findMany({ where: { id: { in: [...ids] } } }),
      (order) => order.id,
    ),
    linesByOrderId: loaderGroupedBy<string, OrderLine>(
      (orderIds) => prisma.orderLine.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: { id: 'asc' } }),
      (line) => line.orderId,
    ),
    /** Each order's current payment: the latest that was not declined or failed. */
    paymentByOrderId: loaderByKey<string, Payment>(
      (orderIds) =>
        prisma.payment.findMany({
          where: { orderId: { in: [...orderIds] }, status: { notIn: ['DECLINED', 'FAILED'] } },
          orderBy: { createdAt: 'asc' },
        }),
      (payment) => payment.orderId,
    ),
    eventsByOrderId: loaderGroupedBy<string, OrderEvent>(
      (orderIds) =>
        prisma.orderEvent.findMany({
          where: { orderId: { in: [...orderIds] } },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
      (event) => event.orderId,
    ),
  };
}
