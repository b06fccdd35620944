// Orders: the customer's own and staff's; tracking by number needs the email too; status changes are staff work.
import type { Order } from '../../generated/prisma/client.js';
import { eachField, isAuthenticated, isPublic, isStaff } from '../../auth/rules.js';
import { isStaffRole } from '../../auth/viewer.js';
import type { Context } from '../../graphql/context.js';
import type { RuleTree } from '../../graphql/permissions.js';
import { holdsCartInput } from '../cart/index.js';

/** Also used by order(id:) and node(id:). */
export const canViewOrder = (ctx: Context, order: Pick<Order, 'accountId'>): boolean =>
  Boolean(ctx.viewer && (ctx.viewer.accountId === order.accountId || isStaffRole(ctx.viewer.role)));

export const orderRules: RuleTree = {
  // order(id:) and orderByNumber check access themselves, once the order is loaded.
  Query: { order: isPublic, orderByNumber: isPublic, orders: isStaff },
  // orderStatusChanged checks the order's owner when it starts (see resolvers.ts).
  Subscription: { orderStatusChanged: isAuthenticated },
  Mutation: {
    checkoutComplete: holdsCartInput,
    orderFulfill: isStaff,
    fulfillmentMarkShipped: isStaff,
    fulfillmentMarkDelivered: isStaff,
    orderCancel: isStaff,
  },
  // An order is reached only through entry points that check access: order(id:), orderByNumber, node(id:),
  // Account.orders (the account's own rule) and checkout.
  Order: eachField(isPublic, [
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
  OrderLine: eachField(isPublic, [
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
  Fulfillment: eachField(isPublic, ['id', 'status', 'carrier', 'trackingNumber', 'lines', 'createdAt']),
  FulfillmentLine: eachField(isPublic, ['orderLine', 'quantity']),
  OrderEvent: eachField(isPublic, ['kind', 'from', 'to', 'fulfillmentId', 'note', 'createdAt']),
  OrderConnection: eachField(isPublic, ['edges', 'nodes', 'pageInfo', 'totalCount']),
  OrderEdge: eachField(isPublic, ['cursor', 'node']),
  CheckoutCompletePayload: eachField(isPublic, ['order', 'userErrors']),
  OrderFulfillPayload: eachField(isPublic, ['order', 'fulfillment', 'userErrors']),
  FulfillmentTransitionPayload: eachField(isPublic, ['fulfillment', 'order', 'userErrors']),
  OrderTransitionPayload: eachField(isPublic, ['order', 'userErrors']),
};
