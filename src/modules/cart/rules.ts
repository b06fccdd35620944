// Who may use a cart: anyone holding a guest cart's ID; only its customer (and staff) for a customer's cart.
import { rule } from 'graphql-shield';
import type { Cart } from '../../generated/prisma/client.js';
import { eachField, isPublic } from '../../auth/rules.js';
import { isStaffRole } from '../../auth/viewer.js';
import type { Context } from '../../graphql/context.js';
import { forbidden, unauthenticated } from '../../graphql/errors.js';
import { databaseIdOf } from '../../graphql/globalId.js';
import type { RuleTree } from '../../graphql/permissions.js';

/** Also used by cart(id:) and node(id:). */
export const canUseCart = (ctx: Context, cart: Pick<Cart, 'accountId'>): boolean =>
  cart.accountId === null ||
  Boolean(ctx.viewer && (ctx.viewer.accountId === cart.accountId || isStaffRole(ctx.viewer.role)));

/** For mutations on `input.cartId`, loaded through the request's DataLoader. An unknown cart passes, for the
 * mutation to report as NOT_FOUND. */
export const holdsCartInput = rule('holdsCartInput', { cache: 'strict' })(async (
  _parent,
  args: { input: { cartId: string } },
  ctx: Context,
) => {
  const id = databaseIdOf(args.input.cartId, 'Cart');
  const cart = id && (await ctx.loaders.cartById.load(id));
  if (!cart || canUseCart(ctx, cart)) return true;
  return ctx.viewer ? forbidden() : unauthenticated();
});

export const cartRules: RuleTree = {
  // cart(id:) checks canUseCart itself: the cart to check is only known once loaded.
  Query: { cart: isPublic, shippingMethods: isPublic },
  Mutation: {
    cartCreate: isPublic,
    cartLinesAdd: holdsCartInput,
    cartLinesUpdate: holdsCartInput,
    cartLinesRemove: holdsCartInput,
    cartBuyerIdentityUpdate: holdsCartInput,
    cartShippingMethodSelect: holdsCartInput,
  },
  // A cart is reached only through cart(id:), node(id:), Account.cart or a payload, each of which checks access.
  Cart: eachField(isPublic, [
    'id',
    'lines',
    'totalQuantity',
    'buyerIdentity',
    'shippingMethod',
    'availableShippingMethods',
    'cost',
    'createdAt',
    'updatedAt',
  ]),
  CartLine: eachField(isPublic, ['id', 'merchandise', 'quantity', 'cost']),
  CartLineCost: eachField(isPublic, ['unitPrice', 'subtotal']),
  CartCost: eachField(isPublic, ['subtotal', 'shipping', 'tax', 'total']),
  CartBuyerIdentity: eachField(isPublic, ['email', 'shippingAddress']),
  MailingAddress: eachField(isPublic, [
    'firstName',
    'lastName',
    'company',
    'line1',
    'line2',
    'city',
    'province',
    'postalCode',
    'countryCode',
    'phone',
  ]),
  ShippingMethod: eachField(isPublic, ['id', 'name', 'price', 'countries']),
  CartCreatePayload: eachField(isPublic, ['cart', 'userErrors']),
  CartLinesAddPayload: eachField(isPublic, ['cart', 'userErrors']),
  CartLinesUpdatePayload: eachField(isPublic, ['cart', 'userErrors']),
  CartLinesRemovePayload: eachField(isPublic, ['cart', 'userErrors']),
  CartBuyerIdentityUpdatePayload: eachField(isPublic, ['cart', 'userErrors']),
  CartShippingMethodSelectPayload: eachField(isPublic, ['cart', 'userErrors']),
};
