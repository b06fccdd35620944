// Orders: the customer's own and staff's; tracking by number needs the email too; status changes are staff work.
import type { Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine } from '../../generated/prisma/client.js';
import { mayView, ownerOrStaff, ownerOrStaffOfArgument, type Owned } from '../../auth/ownership.js';
import { eachField, isPublic, isStaff } from '../../auth/rules.js';
import type { Context } from '../../graphql/context.js';
import { databaseIdOf } from '../../graphql/globalId.js';
import type { RuleTree } from '../../graphql/permissions.js';
import { holdsCartInput } from '../cart/index.js';

/** An order is its customer's. A guest's order has no owner and is shown only where the caller proves they placed
 * it: orderByNumber with its email, or the checkout of the guest cart (grantObject in resolvers.ts). */
export const ownedOrder = (order: Pick<Order, 'id' | 'accountId'>): Owned => ({
  kind: 'Order',
  id: order.id,
  accountId: order.accountId,
  openWhenUnowned: false,
});

/** Also used by node(id:). */
export const canViewOrder = (ctx: Context, order: Pick<Order, 'id' | 'accountId'>): boolean =>
  mayView(ctx, ownedOrder(order));

const orderOf = async (orderId: string | null, ctx: Context) => {
  const order = orderId && (await ctx.loaders.orderById.load(orderId));
  return order ? ownedOrder(order) : null;
};

/** order(id:): an unknown order passes, for the field to answer null. */
const viewsOrderArgument = ownerOrStaffOfArgument(
  'viewsOrderArgument',
  (args: { id: string }, ctx) => orderOf(databaseIdOf(args.id, 'Order'), ctx),
  { to: 'view' },
);
/** orderStatusChanged(orderId:): an unknown order is refused like another's, so the stream reveals nothing. */
const viewsOrderIdArgument = ownerOrStaffOfArgument(
  'viewsOrderIdArgument',
  (args: { orderId: string }, ctx) => orderOf(databaseIdOf(args.orderId, 'Order'), ctx),
  { to: 'view', missing: 'deny' },
);

export const ownerOfOrder = ownerOrStaff<Order>('Order', ownedOrder);
const ownerOfOrderLine = ownerOrStaff<OrderLine>('OrderLine', (line, ctx) => orderOf(line.orderId, ctx));
const ownerOfFulfillment = ownerOrStaff<Fulfillment>('Fulfillment', (shipment, ctx) => orderOf(shipment.orderId, ctx));
const ownerOfFulfillmentLine = ownerOrStaff<FulfillmentLine>('FulfillmentLine', async (line, ctx) => {
  const orderLine = await ctx.loaders.orderLineById.load(line.orderLineId);
  return orderLine ? orderOf(orderLine.orderId, ctx) : null;
});
const ownerOfOrderEvent = ownerOrStaff<OrderEvent>('OrderEvent', (event, ctx) => orderOf(event.orderId, ctx));

export const orderRules: RuleTree = {
  // orderByNumber finds the order only with its email, and grants it to the caller (see resolvers.ts).
  Query: { order: viewsOrderArgument, orderByNumber: isPublic, orders: isStaff },
  // Checked on each push (the shield wraps a subscription's resolve, not its subscribe, which checks the same
  // ownership when the stream starts: see resolvers.ts); each pushed order meets the Order rules as well.
  Subscription: { orderStatusChanged: viewsOrderIdArgument },
  Mutation: {
    checkoutComplete: holdsCartInput,
    orderFulfill: isStaff,
    fulfillmentMarkShipped: isStaff,
    fulfillmentMarkDelivered: isStaff,
    orderCancel: isStaff,
  },
  Order: eachField(ownerOfOrder, [
    'id',
    'number',
    'status',
    'financialStatus',
    'fulfillmentStatus',
    'fulfillments',
    'email',
    'lines',
    'subtotal',
    'shipping',
    'tax',
    'total',
    'shippingAddress',
    'shippingMethod',
    'events',
    'createdAt',
  ]),
  OrderLine: eachField(ownerOfOrderLine, [
    'id',
    'sku',
    'productTitle',
    'variantTitle',
    'unitPrice',
    'quantity',
    'subtotal',
    'fulfilledQuantity',
    'refundedQuantity',
    'fulfillableQuantity',
  ]),
  Fulfillment: eachField(ownerOfFulfillment, ['id', 'status', 'carrier', 'trackingNumber', 'lines', 'createdAt']),
  FulfillmentLine: eachField(ownerOfFulfillmentLine, ['orderLine', 'quantity']),
  OrderEvent: eachField(ownerOfOrderEvent, ['kind', 'from', 'to', 'fulfillmentId', 'note', 'createdAt']),
  // Lists and payloads only point at orders, which keep their own rules.
  OrderConnection: eachField(isPublic, ['edges', 'nodes', 'pageInfo', 'totalCount']),
  OrderEdge: eachField(isPublic, ['cursor', 'node']),
  CheckoutCompletePayload: eachField(isPublic, ['order', 'userErrors']),
  OrderFulfillPayload: eachField(isPublic, ['order', 'fulfillment', 'userErrors']),
  FulfillmentTransitionPayload: eachField(isPublic, ['fulfillment', 'order', 'userErrors']),
  OrderTransitionPayload: eachField(isPublic, ['order', 'userErrors']),
};
