// Who may use a cart: anyone holding a guest cart's ID; only its customer (and staff) for a customer's cart.
import type { Cart, CartLine } from '../../generated/prisma/client.js';
import { mayView, ownerOfWhole, ownerOrStaff, ownerOrStaffOfArgument, type Owned } from '../../auth/ownership.js';
import { eachField, isPublic } from '../../auth/rules.js';
import type { Context } from '../../graphql/context.js';
import { databaseIdOf } from '../../graphql/globalId.js';
import type { RuleTree } from '../../graphql/permissions.js';

/** A cart is its customer's; a guest cart (no customer) is open to whoever holds its ID. */
export const ownedCart = (cart: Pick<Cart, 'id' | 'accountId'>): Owned => ({
  kind: 'Cart',
  id: cart.id,
  accountId: cart.accountId,
  openWhenUnowned: true,
});

/** Also used by node(id:). */
export const canUseCart = (ctx: Context, cart: Pick<Cart, 'id' | 'accountId'>): boolean =>
  mayView(ctx, ownedCart(cart));

const cartNamed = async (id: string | null, ctx: Context) => {
  const cart = id && (await ctx.loaders.cartById.load(id));
  return cart ? ownedCart(cart) : null;
};

/** For mutations on `input.cartId`, loaded through the request's DataLoader. An unknown cart passes, for the
 * mutation to report as NOT_FOUND. */
export const holdsCartInput = ownerOrStaffOfArgument(
  'holdsCartInput',
  (args: { input: { cartId: string } }, ctx) => cartNamed(databaseIdOf(args.input.cartId, 'Cart'), ctx),
  { to: 'act' },
);

/** cart(id:): the cart named by `id`; an unknown cart passes, for the field to answer null. */
const holdsCartArgument = ownerOrStaffOfArgument(
  'holdsCartArgument',
  (args: { id: string }, ctx) => cartNamed(databaseIdOf(args.id, 'Cart'), ctx),
  { to: 'view' },
);

const ownerOfCart = ownerOrStaff<Cart>('Cart', ownedCart);
const ownerOfCartLine = ownerOrStaff<CartLine>('CartLine', async (line, ctx) => {
  const cart = await ctx.loaders.cartById.load(line.cartId);
  return cart ? ownedCart(cart) : null;
});

export const cartRules: RuleTree = {
  Query: { cart: holdsCartArgument, shippingMethods: isPublic },
  Mutation: {
    cartCreate: isPublic,
    cartLinesAdd: holdsCartInput,
    cartLinesUpdate: holdsCartInput,
    cartLinesRemove: holdsCartInput,
    cartBuyerIdentityUpdate: holdsCartInput,
    cartShippingMethodSelect: holdsCartInput,
  },
  Cart: eachField(ownerOfCart, [
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
  CartLine: eachField(ownerOfCartLine, ['id', 'merchandise', 'quantity', 'cost']),
  CartLineCost: eachField(ownerOfWhole, ['unitPrice', 'subtotal']),
  CartCost: eachField(ownerOfWhole, ['subtotal', 'shipping', 'tax', 'total']),
  CartBuyerIdentity: eachField(ownerOfWhole, ['email', 'shippingAddress']),
  MailingAddress: eachField(ownerOfWhole, [
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
