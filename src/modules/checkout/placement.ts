// Checkout's first transaction: the cart checked, its stock reserved (all or nothing), and the order created hidden
// (status CHECKOUT, no number) with its payment under the processor-side key, tied to the checkout's attempt.
import type { Prisma } from '../../generated/prisma/client.js';
import { cartTotals, MAX_ORDER_TOTAL } from '../cart/index.js';
import { reserve, type StockLine } from '../inventory/index.js';
import { databaseErrorOf, Rollback, userError, type UserError } from '../userErrors.js';
import type { CheckoutRequest, CheckoutSettings } from './service.js';

/** Rolls back with user errors for a cart that cannot be checked out (empty, incomplete, short of stock, or checked
 * out by a racing request). */
export async function placeOrder(
  tx: Prisma.TransactionClient,
  request: CheckoutRequest,
  providerName: string,
  settings: Pick<CheckoutSettings, 'currency' | 'reservationMinutes'>,
) {
  const cart = await tx.cart.findUnique({
    where: { id: request.cartId },
    include: {
      lines: { include: { variant: { include: { product: true } } } },
      shippingMethod: true,
      account: true,
    },
  });
  if (!cart) throw new Rollback(userError(['cartId'], 'NOT_FOUND', 'No cart with this ID.'));
  const address = cart.shippingAddress as { countryCode: string } | null;
  const email = cart.email ?? cart.account?.email;
  const problems = [
    !cart.lines.length && userError(['cartId'], 'INVALID', 'The cart is empty.'),
    !email && userError(['cartId'], 'BLANK', 'Set an email with cartBuyerIdentityUpdate first.'),
    !address && userError(['cartId'], 'BLANK', 'Set a shipping address with cartBuyerIdentityUpdate first.'),
    !cart.shippingMethod && userError(['cartId'], 'BLANK', 'Choose a shipping method first.'),
    cart.shippingMethod &&
      address &&
      !cart.shippingMethod.countries.includes(address.countryCode) &&
      userError(['cartId'], 'INVALID', `${cart.shippingMethod.name} does not ship to ${address.countryCode}.`),
  ].filter((problem): problem is UserError => Boolean(problem));
  if (problems.length) throw new Rollback(...problems);

  const lines: StockLine[] = cart.lines.map(({ variantId, quantity }) => ({ variantId, quantity }));
  const short = await reserve(tx, lines);
  if (short.length) {
    // Read again: the failed reservations waited for other checkouts, so the cart's copy is stale.
    const now = await tx.productVariant.findMany({ where: { id: { in: short.map((line) => line.variantId) } } });
    throw new Rollback(
      ...now.map((variant) => {
        const available = Math.max(variant.stockOnHand - variant.stockReserved, 0);
        return userError(['cartId'], 'INSUFFICIENT_STOCK', `${variant.sku}: only ${available} available.`);
      }),
    );
  }
  const totals = await priceCart(tx, cart);
  if (totals.total > MAX_ORDER_TOTAL) {
    throw new Rollback(
      userError(['cartId'], 'LIMIT_REACHED', `An order may total at most ${MAX_ORDER_TOTAL} minor units.`),
    );
  }
  const order = await tx.order
    .create({
      data: {
        number: null, // given when the order is placed: a declined checkout uses none
        accountId: cart.accountId,
        email: email!,
        currencyCode: settings.currency,
        subtotalAmount: totals.subtotal,
        shippingAmount: totals.shipping,
        taxAmount: totals.tax,
        totalAmount: totals.total,
        shippingAddress: address!,
        shippingMethod: cart.shippingMethod!.name,
        cartId: cart.id,
        reservedUntil: new Date(Date.now() + settings.reservationMinutes * 60_000),
        lines: {
          create: cart.lines.map((line) => ({
            variantId: line.variantId,
            sku: line.variant.sku,
            productTitle: line.variant.product.title,
            variantTitle: line.variant.title,
            unitPriceAmount: line.variant.priceAmount,
            quantity: line.quantity,
          })),
        },
        events: { create: { kind: 'STATUS', toStatus: 'CHECKOUT', accountId: cart.accountId } },
      },
    })
    .catch((error: unknown) => {
      // the unique cart_id: another checkout of this cart won the race
      if (databaseErrorOf(error) === 'unique') {
        throw new Rollback(userError(['cartId'], 'CONFLICT', 'This cart has already been checked out.'));
      }
      throw error;
    });
  const payment =
    totals.total > 0
      ? await tx.payment.create({
          data: {
            orderId: order.id,
            provider: providerName,
            amount: totals.total,
            idempotencyKey: `checkout:${request.idempotencyKey}`,
          },
        })
      : null;
  await tx.checkoutAttempt.update({
    where: { key: request.idempotencyKey },
    data: { orderId: order.id, amount: totals.total },
  });
  return { order, payment };
}

type PricedCart = {
  lines: { quantity: number; variant: { priceAmount: number } }[];
  shippingMethod: { priceAmount: number } | null;
  shippingAddress: unknown;
};

/** What the cart costs now, with its shipping and the tax of its address's country. */
async function priceCart(db: Prisma.TransactionClient, cart: PricedCart) {
  const country = (cart.shippingAddress as { countryCode?: string } | null)?.countryCode;
  const rate = country ? await db.taxRate.findUnique({ where: { countryCode: country } }) : null;
  return cartTotals(
    cart.lines.map((line) => ({ unitPrice: line.variant.priceAmount, quantity: line.quantity })),
    cart.shippingMethod?.priceAmount ?? 0,
    rate?.rateBasisPoints ?? 0,
  );
}

/** The cart's total now; null when the cart is gone (its checkout placed an order). */
export async function currentCartTotal(db: Prisma.TransactionClient, cartId: string): Promise<number | null> {
  const cart = await db.cart.findUnique({
    where: { id: cartId },
    include: { lines: { include: { variant: true } }, shippingMethod: true },
  });
  return cart && (await priceCart(db, cart)).total;
}
