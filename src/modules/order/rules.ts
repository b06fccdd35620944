// Orders: the customer's own and staff's; tracking by number needs the email too; status changes are staff work.
import type { Order } from '../../generated/prisma/client.js';
import { eachField, isAuthenticated, isPublic, isStaff } from '../../auth/rules.js';
import { isStaffRole } from '../../auth/viewer.js';
import type { Context } from '../../graphql/context.js';
import type { RuleTree } from '../../graphql/permissions.js';
import { holdsCartInput } from '../cart/rules.js';

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
    orderMarkShipped: isStaff,
    orderMarkDelivered: isStaff,
    orderCancel: isStaff,
  },
  // An order is reached only through entry points that check access: order(id:), orderByNumber, node(id:),
  // Account.orders (the account's own rule) and checkout.
  Order: eachField(isPublic, [
    'id',
    'number',
    'status',
    'email',
    'lines',
    'subtotal',
    'shipping',
    'tax',
    'total',
    'shippingAddress',
    'shippingMethod',
    'carrier',
    'trackingNumber',
    'events',
    'createdAt',
  ]),
  OrderLine: eachField(isPublic, ['sku', 'productTitle', 'variantTitle', 'unitPrice', 'quantity', 'subtotal']),
  OrderEvent: eachField(isPublic, ['from', 'to', 'note', 'createdAt']),
  OrderConnection: eachField(isPublic, ['edges', 'nodes', 'pageInfo', 'totalCount']),
  OrderEdge: eachField(isPublic, ['cursor', 'node']),
  CheckoutCompletePayload: eachField(isPublic, ['order', 'userErrors']),
  OrderFulfillPayload: eachField(isPublic, ['order', 'userErrors']),
  OrderTransitionPayload: eachField(isPublic, ['order', 'userErrors']),
};
