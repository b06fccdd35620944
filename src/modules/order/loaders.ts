import type { Order, OrderEvent, OrderLine, PrismaClient } from '../../generated/prisma/client.js';
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
