// Transaction 2 of a checkout: the processor's answer recorded with the order, its stock, the cart and the attempt,
// all at once. A placed order gets its number here; a declined or failed one releases its stock and frees the cart.
import type { CheckoutAttempt, Order, Payment, Prisma } from '../../generated/prisma/client.js';
import { release, sell } from '../inventory/index.js';
import { lockOrder, moveOrder, type Actor } from '../order/index.js';
import type { AuthorizeResult } from '../payment/index.js';
import { fail, requestError, succeed, userError, type Outcome } from '../userErrors.js';

const SYSTEM: Actor = { accountId: null };

export const paymentFailed = () =>
  requestError('PAYMENT_FAILED', 'The payment could not be processed; nothing was charged. Please retry.');

/** Records `answer` for the order being checked out; 'taken' when it is no longer being checked out (another process
 * settled it first). */
export async function recordAnswer(
  tx: Prisma.TransactionClient,
  attempt: CheckoutAttempt,
  order: Order,
  payment: Payment | null,
  answer: AuthorizeResult | 'failed',
): Promise<Outcome<Order> | 'taken'> {
  const current = await lockOrder(tx, order.id);
  if (current?.status !== 'CHECKOUT') return 'taken';
  const lines = (await tx.orderLine.findMany({ where: { orderId: order.id } })).flatMap((line) =>
    line.variantId ? [{ variantId: line.variantId, quantity: line.quantity }] : [],
  );
  if (answer !== 'failed' && answer.status !== 'declined') {
    const authorized = answer.status === 'authorized';
    if (payment) {
      await tx.payment.update({
        where: { id: payment.id },
        data: { providerReference: answer.reference, ...(authorized && { status: 'AUTHORIZED' }) },
      });
    }
    const number = await nextNumber(tx, order.id);
    if (authorized) await sell(tx, lines, `order #${number}`);
    // The number was just set by its own UPDATE: moveOrder returns the row as it is now, number included.
    const placed = await moveOrder(
      tx,
      current,
      { status: 'OPEN', financialStatus: authorized ? (payment ? 'AUTHORIZED' : 'PAID') : undefined },
      { accountId: order.accountId, note: authorized ? 'payment authorized' : 'waiting for the payment' },
      { data: authorized ? { reservedUntil: null } : {} },
    );
    await tx.cart.deleteMany({ where: { id: current.cartId ?? undefined } });
    await finishAttempt(tx, attempt.key, placed);
    return succeed(placed);
  }
  const declined = answer !== 'failed';
  await tx.payment.update({
    where: { id: payment!.id },
    data: {
      status: declined ? 'DECLINED' : 'FAILED',
      failureCode: declined ? answer.code : 'transient_error',
      // Nothing was charged under the processor key: a retry with the same checkout key uses it again.
      ...(!declined && { idempotencyKey: null }),
    },
  });
  await release(tx, lines);
  // The cart is free again: the shopper can try another card. The attempt stays, for audit, without a number.
  await moveOrder(
    tx,
    current,
    { status: 'ABANDONED', financialStatus: 'VOIDED' },
    { ...SYSTEM, note: declined ? `payment declined: ${answer.code}` : 'payment failed' },
    { data: { cartId: null, reservedUntil: null } },
  );
  if (!declined) {
    // Nothing was charged: the key is freed so the shopper can retry with it.
    await tx.checkoutAttempt.delete({ where: { key: attempt.key } });
    return fail(paymentFailed());
  }
  const refused = fail(userError(['payment', 'token'], 'PAYMENT_DECLINED', answer.message));
  await tx.checkoutAttempt.update({
    where: { key: attempt.key },
    data: { userErrors: refused.userErrors as object[], finishedAt: new Date() },
  });
  return refused;
}

async function nextNumber(tx: Prisma.TransactionClient, orderId: string): Promise<number> {
  const [placed] = await tx.$queryRaw<{ number: number }[]>`
    UPDATE "order" SET number = nextval(pg_get_serial_sequence('"order"', 'number'))
    WHERE id = ${orderId}::uuid AND number IS NULL RETURNING number`;
  return placed!.number;
}

/** Marks the attempt finished with the order it placed (once: a finished attempt keeps its outcome). */
export async function finishAttempt(db: Prisma.TransactionClient, key: string, order: Order) {
  await db.checkoutAttempt.updateMany({
    where: { key, finishedAt: null },
    data: { orderId: order.id, userErrors: [], finishedAt: new Date() },
  });
}
