// checkoutComplete: cart -> reserved stock -> order -> payment authorization -> paid order (or released stock).
// The processor is called between two transactions, never inside one. An idempotency key makes replays return the
// first result; a transient failure frees its key so the same key can be retried.
import type { Order, PrismaClient } from '../../generated/prisma/client.js';
import { fail, requestError, succeed, userError, type Outcome, type UserError } from '../userErrors.js';
import { cartTotals } from '../cart/pricing.js';
import { moveOrder } from '../order/stateMachine.js';
import type { OrderStatusBus } from '../order/statusBus.js';
import { TransientPaymentError, type AuthorizeResult, type PaymentProvider } from '../payment/provider.js';
import { release, reserve, sell, type StockLine } from './stock.js';

export interface CheckoutRequest {
  cartId: string;
  provider: string;
  token: string;
  idempotencyKey: string;
}

const REPLAY_WAIT_MS = 30_000;
/** An order that costs nothing is paid without asking a processor. */
const FREE: AuthorizeResult = { status: 'authorized', reference: 'no charge' };
const REPLAY_POLL_MS = 50;

class Abort extends Error {
  constructor(readonly userErrors: UserError[]) {
    super('checkout aborted');
  }
}

export class CheckoutService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly currency: string,
    private readonly reservationMinutes: number,
    private readonly bus: OrderStatusBus | null = null,
  ) {}

  async complete(request: CheckoutRequest): Promise<Outcome<Order>> {
    const key = request.idempotencyKey;
    if (key.length < 8 || key.length > 100) {
      return fail(userError(['idempotencyKey'], 'INVALID', 'The idempotency key must be 8 to 100 characters.'));
    }
    const claimed = await this.prisma.$executeRaw`
      INSERT INTO checkout_attempt (key, cart_id, created_at) VALUES (${key}, ${request.cartId}::uuid, now())
      ON CONFLICT (key) DO NOTHING`;
    if (claimed === 0) return this.replay(request);
    let result: { outcome: Outcome<Order>; final: boolean };
    try {
      result = await this.run(request);
    } catch (error) {
      await this.prisma.checkoutAttempt.delete({ where: { key } });
      throw error;
    }
    // Only what reached the processor is final (paid, pending, declined); a cart problem or a transient failure
    // frees the key, so the client can fix the cart or retry with the same key.
    if (!result.final) await this.prisma.checkoutAttempt.delete({ where: { key } });
    else {
      await this.prisma.checkoutAttempt.update({
        where: { key },
        data: {
          orderId: result.outcome.value?.id ?? null,
          userErrors: result.outcome.userErrors as object[],
          finishedAt: new Date(),
        },
      });
    }
    return result.outcome;
  }

  /** The result of the attempt that holds this key, once it has finished. */
  private async replay(request: CheckoutRequest): Promise<Outcome<Order>> {
    const deadline = Date.now() + REPLAY_WAIT_MS;
    for (;;) {
      const attempt = await this.prisma.checkoutAttempt.findUnique({ where: { key: request.idempotencyKey } });
      if (!attempt) return this.complete(request); // the first attempt failed transiently and freed its key
      if (attempt.cartId !== request.cartId) {
        return fail(userError(['idempotencyKey'], 'CONFLICT', 'This idempotency key was used for another cart.'));
      }
      if (attempt.finishedAt) {
        const order = attempt.orderId ? await this.prisma.order.findUnique({ where: { id: attempt.orderId } }) : null;
        return order ? succeed(order) : fail(...(attempt.userErrors as unknown as UserError[]));
      }
      if (Date.now() > deadline) {
        return fail(requestError('CONFLICT', 'A checkout with this idempotency key is still running; retry shortly.'));
      }
      await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    }
  }

  private async run(request: CheckoutRequest): Promise<{ outcome: Outcome<Order>; final: boolean }> {
    const provider = this.providers.get(request.provider);
    if (!provider) {
      const unknown = userError(['payment', 'provider'], 'INVALID', `Unknown payment provider "${request.provider}".`);
      return { outcome: fail(unknown), final: false };
    }
    const placed = await this.placeOrder(request.cartId, provider.name).catch((error: unknown) => {
      if (error instanceof Abort) return error.userErrors;
      throw error;
    });
    if (Array.isArray(placed)) return { outcome: fail(...placed), final: false };
    const { order, lines, paymentId } = placed;
    if (!paymentId) return { outcome: await this.settle(order, lines, null, FREE), final: true };

    let result: AuthorizeResult;
    try {
      result = await provider.authorize({
        amount: order.totalAmount,
        currencyCode: order.currencyCode,
        token: request.token,
        // The checkout's own key: a retry after a timeout reaches the processor under the same key, so an
        // authorization that did go through is returned, not repeated.
        idempotencyKey: `checkout:${request.idempotencyKey}`,
      });
    } catch (error) {
      // Nothing is known to be charged: give the stock back. An unexpected error still surfaces as one.
      const outcome = await this.settle(order, lines, paymentId, 'transient');
      if (error instanceof TransientPaymentError) return { outcome, final: false };
      throw error;
    }
    return { outcome: await this.settle(order, lines, paymentId, result), final: true };
  }

  /** Transaction 1: checks the cart, reserves its stock (all or nothing) and creates the pending order. */
  private async placeOrder(cartId: string, providerName: string) {
    return this.prisma.$transaction(async (tx) => {
      const cart = await tx.cart.findUnique({
        where: { id: cartId },
        include: {
          lines: { include: { variant: { include: { product: true } } } },
          shippingMethod: true,
          account: true,
        },
      });
      if (!cart) throw new Abort([userError(['cartId'], 'NOT_FOUND', 'No cart with this ID.')]);
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
      if (problems.length) throw new Abort(problems);

      const lines: StockLine[] = cart.lines.map(({ variantId, quantity }) => ({ variantId, quantity }));
      const short = await reserve(tx, lines);
      if (short.length) {
        // Read again: the failed reservations waited for other checkouts, so the cart's copy is stale.
        const now = await tx.productVariant.findMany({ where: { id: { in: short.map((line) => line.variantId) } } });
        throw new Abort(
          now.map((variant) => {
            const available = Math.max(variant.stockOnHand - variant.stockReserved, 0);
            return userError(['cartId'], 'INSUFFICIENT_STOCK', `${variant.sku}: only ${available} available.`);
          }),
        );
      }
      const rate = await tx.taxRate.findUnique({ where: { countryCode: address!.countryCode } });
      const totals = cartTotals(
        cart.lines.map((line) => ({ unitPrice: line.variant.priceAmount, quantity: line.quantity })),
        cart.shippingMethod!.priceAmount,
        rate?.rateBasisPoints ?? 0,
      );
      const order = await tx.order
        .create({
          data: {
            accountId: cart.accountId,
            email: email!,
            currencyCode: this.currency,
            subtotalAmount: totals.subtotal,
            shippingAmount: totals.shipping,
            taxAmount: totals.tax,
            totalAmount: totals.total,
            shippingAddress: address!,
            shippingMethod: cart.shippingMethod!.name,
            cartId,
            reservedUntil: new Date(Date.now() + this.reservationMinutes * 60_000),
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
            events: { create: { toStatus: 'PENDING_PAYMENT', accountId: cart.accountId } },
          },
        })
        .catch((error: unknown) => {
          // the unique cart_id: another checkout of this cart won the race
          if ((error as { code?: string }).code === 'P2002') {
            throw new Abort([userError(['cartId'], 'CONFLICT', 'This cart has already been checked out.')]);
          }
          throw error;
        });
      const payment =
        totals.total > 0
          ? await tx.payment.create({ data: { orderId: order.id, provider: providerName, amount: totals.total } })
          : null;
      return { order, lines, paymentId: payment?.id ?? null };
    });
  }

  /** Transaction 2: applies the processor's answer to the payment, the order and the stock. */
  private async settle(
    order: Order,
    lines: StockLine[],
    paymentId: string | null,
    result: AuthorizeResult | 'transient',
  ): Promise<Outcome<Order>> {
    const outcome = await this.applyResult(order, lines, paymentId, result);
    const pending = result !== 'transient' && result.status === 'pending';
    if (!pending) this.bus?.publish({ id: order.id, status: outcome.value ? 'PAID' : 'CANCELLED' });
    return outcome;
  }

  private applyResult(
    order: Order,
    lines: StockLine[],
    paymentId: string | null,
    result: AuthorizeResult | 'transient',
  ): Promise<Outcome<Order>> {
    return this.prisma.$transaction(async (tx) => {
      if (result !== 'transient' && result.status === 'authorized') {
        if (paymentId) {
          await tx.payment.update({
            where: { id: paymentId },
            data: { status: 'AUTHORIZED', providerReference: result.reference },
          });
        }
        await sell(tx, lines, `order #${order.number}`);
        const moved = await moveOrder(tx, order.id, {
          to: 'PAID',
          note: 'payment authorized',
          data: { reservedUntil: null },
        });
        await tx.cart.deleteMany({ where: { id: order.cartId ?? undefined } });
        return succeed(moved!.after);
      }
      if (result !== 'transient' && result.status === 'pending') {
        await tx.payment.update({ where: { id: paymentId! }, data: { providerReference: result.reference } });
        await tx.cart.deleteMany({ where: { id: order.cartId ?? undefined } });
        return succeed(order);
      }
      const declined = result !== 'transient';
      await tx.payment.update({
        where: { id: paymentId! },
        data: { status: declined ? 'DECLINED' : 'FAILED', failureCode: declined ? result.code : 'transient_error' },
      });
      await release(tx, lines);
      // the cart is free again: the shopper can try another card
      await moveOrder(tx, order.id, {
        to: 'CANCELLED',
        note: declined ? `payment declined: ${result.code}` : 'payment failed',
        data: { cartId: null, reservedUntil: null },
      });
      return declined
        ? fail(userError(['payment', 'token'], 'PAYMENT_DECLINED', result.message))
        : fail(
            requestError('PAYMENT_FAILED', 'The payment could not be processed; nothing was charged. Please retry.'),
          );
    });
  }
}
