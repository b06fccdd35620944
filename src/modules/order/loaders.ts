import type {
  Fulfillment,
  FulfillmentLine,
  Order,
  OrderEvent,
  OrderLine,
  Payment,
  PrismaClient,
} from '../../generated/prisma/client.js';
import { VISIBLE_STATUSES } from './stateMachines.js';
import { loaderByKey, loaderGroupedBy } from '../../db/batch.js';

export function createOrderLoaders(prisma: PrismaClient) {
  return {
    /** Placed orders only: a checkout being decided or abandoned is nobody's to read. */
    orderById: loaderByKey<string, Order>(
      (ids) => prisma.order.findMany({ where: { id: { in: [...ids] }, status: { in: VISIBLE_STATUSES } } }),
      (order) => order.id,
    ),
    linesByOrderId: loaderGroupedBy<string, OrderLine>(
      (orderIds) => prisma.orderLine.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: { id: 'asc' } }),
      (line) => line.orderId,
    ),
    orderLineById: loaderByKey<string, OrderLine>(
      (ids) => prisma.orderLine.findMany({ where: { id: { in: [...ids] } } }),
      (line) => line.id,
    ),
    /** Each order's payment (checkout makes one per order). */
    paymentByOrderId: loaderByKey<string, Payment>(
      (orderIds) =>
        prisma.payment.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: { createdAt: 'asc' } }),
      (payment) => payment.orderId,
    ),
    fulfillmentsByOrderId: loaderGroupedBy<string, Fulfillment>(
      (orderIds) => prisma.fulfillment.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: { id: 'asc' } }),
      (shipment) => shipment.orderId,
    ),
    fulfillmentLinesByFulfillmentId: loaderGroupedBy<string, FulfillmentLine>(
      (ids) => prisma.fulfillmentLine.findMany({ where: { fulfillmentId: { in: [...ids] } }, orderBy: { id: 'asc' } }),
      (line) => line.fulfillmentId,
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
