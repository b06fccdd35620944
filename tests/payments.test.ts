// Staff payment operations and payment webhooks end to end over HTTP: Order.payment and the order's financialStatus
// after checkout, paymentCapture (in parts, with a final capture), paymentVoid (which cancels an unshipped order)
// and paymentRefund (by amount or by lines) with their idempotency keys, limits, races and permissions, and the
// sandbox webhook endpoint with its signature, freshness, duplicate and cumulative-total checks. Every result is
// checked in the database too.
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signWebhook } from '../src/modules/payment/webhookSignature.js';
import {
  commerce,
  dbId,
  deliverWebhook,
  eventually,
  newKey,
  ORDER_QUERY,
  webhookBody,
  type Input,
  type Money,
  type OrderView,
  type UserError,
  type Variant,
  type WebhookDelivery,
} from './support/commerce.js';
import { startTestServer, TEST_WEBHOOK_SECRET, type GraphQLResponse, type TestServer } from './support/testServer.js';

let server: TestServer;
let shop: ReturnType<typeof commerce>;
let staff: string;
let staffId: string;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  staffId = (await server.sessionFor('STAFF')).accountId;
  staff = await server.tokenFor('STAFF', { accountId: staffId });
});
afterAll(async () => {
  await Promise.all(clients.map(async (client) => client.dispose()));
  await server?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// GraphQL plumbing

const PAYMENT_OPERATIONS = ['paymentCapture', 'paymentVoid', 'paymentRefund'] as const;
type Operation = (typeof PAYMENT_OPERATIONS)[number];

type Order = OrderView;
type PaymentSummary = NonNullable<Order['payment']>;
interface Payload {
  order: Order | null;
  userErrors: UserError[];
}

/** Minor units as the API shows them: 1784 → 17.84 USD. */
const usd = (minor: number): Money => ({ amount: (minor / 100).toFixed(2), currencyCode: 'USD' });
const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
/** A valid input for `name` (a void takes no amount). */
const inputFor = (name: Operation, orderId: string, idempotencyKey: string) =>
  name === 'paymentVoid' ? { orderId, idempotencyKey } : { orderId, amount: '1.00', idempotencyKey };

/** A staff (or `token`'s, or anonymous with null) capture, void or refund. */
const operate = (name: Operation, input: Input, token: string | null = staff) =>
  shop.operate(name, input, token ?? undefined);

/** The payload of an operation that answered without GraphQL errors. */
async function operated(name: Operation, input: Input): Promise<Payload> {
  const res = await operate(name, input);
  expect(res.errors).toBeUndefined();
  return res.data[name];
}

/** The order of an operation that must have succeeded. */
async function succeeded(name: Operation, input: Input): Promise<Order> {
  const payload = await operated(name, input);
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

async function readOrder(id: string, token: string = staff): Promise<Order> {
  const res = await server.gql(ORDER_QUERY, { id }, token);
  expect(res.errors).toBeUndefined();
  return res.data.order;
}

/** status, financialStatus, fulfillmentStatus. */
const statuses = (order: Pick<Order, 'status' | 'financialStatus' | 'fulfillmentStatus'>) => [
  order.status,
  order.financialStatus,
  order.fulfillmentStatus,
];

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

interface Placed {
  order: Order;
  /** The order's database ID. */
  orderId: string;
  variant: Variant;
  /** The order's total in minor units. */
  total: number;
}

/**
 * An order for `quantity` units of a fresh 10.00 variant with 10 on hand, checked out with `card` (tok_visa: OPEN
 * and AUTHORIZED, tok_requires_action: OPEN and PENDING), by a guest or `as`. One unit: 10.00 + 4.99 + 19 % VAT
 * (2.85) = 17.84.
 */
async function placeOrder({
  card = 'tok_visa',
  quantity = 1,
  as,
}: { card?: string; quantity?: number; as?: string } = {}): Promise<Placed> {
  const variant = await shop.variant({ price: 1000, stock: 10 });
  const order = await shop.placed(await shop.cart([[variant, quantity]], { as }), { card, as });
  const orderId = dbId(order.id, 'Order');
  const { totalAmount } = await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  return { order, orderId, variant, total: totalAmount };
}

// Database reads

const paymentOf = (orderId: string) => server.prisma.payment.findFirstOrThrow({ where: { orderId } });
const chargeOf = async (orderId: string) =>
  server.prisma.sandboxCharge.findUniqueOrThrow({
    where: { reference: (await paymentOf(orderId)).providerReference! },
  });
const operationsOf = async (orderId: string) =>
  (
    await server.prisma.paymentOperation.findMany({
      where: { payment: { orderId } },
      orderBy: { createdAt: 'asc' },
    })
  ).map(({ kind, amount, accountId }) => ({ kind, amount, accountId }));
const stockOf = (variant: Variant) => shop.stockOf(variant);
const ledgerOf = async (variant: Variant) =>
  (
    await server.prisma.inventoryChange.findMany({
      where: { variantId: variant.id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    })
  ).map(({ reason, before, after }) => ({ reason, before, after }));
/** The order's events as [kind, from, to, note, account]. */
const eventsOf = async (orderId: string) =>
  (await server.prisma.orderEvent.findMany({ where: { orderId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(
    ({ kind, fromStatus, toStatus, note, accountId }) => [kind, fromStatus, toStatus, note, accountId],
  );
/** The events of a checkout approved at once. */
const AUTHORIZED_AT_CHECKOUT = [
  ['STATUS', null, 'CHECKOUT', null, null],
  ['STATUS', 'CHECKOUT', 'OPEN', 'payment authorized', null],
  ['FINANCIAL', 'PENDING', 'AUTHORIZED', 'payment authorized', null],
];

/** Every row a payment operation or a webhook could write, to show that a refused call wrote nothing. */
const paymentState = async () => ({
  orders: await server.prisma.order.findMany({ orderBy: { id: 'asc' }, include: { events: true, lines: true } }),
  payments: await server.prisma.payment.findMany({ orderBy: { id: 'asc' } }),
  operations: await server.prisma.paymentOperation.findMany({ orderBy: { key: 'asc' } }),
  webhookEvents: await server.prisma.paymentWebhookEvent.findMany({ orderBy: { eventId: 'asc' } }),
  variants: await server.prisma.productVariant.findMany({ orderBy: { id: 'asc' } }),
  ledger: await server.prisma.inventoryChange.findMany({ orderBy: { id: 'asc' } }),
  charges: await server.prisma.sandboxCharge.findMany({ orderBy: { reference: 'asc' } }),
  requests: await server.prisma.sandboxRequest.findMany({ orderBy: { key: 'asc' } }),
});

const summary = (status: string, amount: number, captured = 0, refunded = 0): PaymentSummary => ({
  status,
  amount: usd(amount),
  captured: usd(captured),
  refunded: usd(refunded),
});
const invalid = (field: string, message: string): UserError => ({ field: ['input', field], code: 'INVALID', message });
const KEY_REUSED: UserError = {
  field: ['input', 'idempotencyKey'],
  code: 'IDEMPOTENCY_KEY_REUSED',
  message: 'This idempotency key was used for a different request; make a new key for a new request.',
};
const STILL_RUNNING: UserError = {
  field: null,
  code: 'CONFLICT',
  message: 'An operation with this idempotency key is still running; retry in 2 seconds.',
};

// ---------------------------------------------------------------------------------------------------------------

describe('Order.payment', () => {
  it('is AUTHORIZED for the whole total after an approved checkout, nothing captured or refunded', async () => {
    const { order, orderId, total } = await placeOrder();

    expect(total).toBe(1784);
    expect(order).toMatchObject({
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      fulfillmentStatus: 'UNFULFILLED',
      total: usd(1784),
      payment: summary('AUTHORIZED', 1784),
    });
    expect(await readOrder(order.id)).toMatchObject({
      financialStatus: 'AUTHORIZED',
      payment: summary('AUTHORIZED', 1784),
    });
    expect(await paymentOf(orderId)).toMatchObject({
      status: 'AUTHORIZED',
      amount: 1784,
      capturedAmount: 0,
      refundedAmount: 0,
      providerReference: expect.stringMatching(/^sandbox_/),
    });
    expect(await chargeOf(orderId)).toMatchObject({ amount: 1784, captured: 0, refunded: 0, voided: false });
    expect(await operationsOf(orderId)).toEqual([]);
    expect(await eventsOf(orderId)).toEqual(AUTHORIZED_AT_CHECKOUT);
  });

  it('is PENDING while the processor has not confirmed', async () => {
    const { order } = await placeOrder({ card: 'tok_requires_action' });
    expect(order).toMatchObject({ status: 'OPEN', financialStatus: 'PENDING', payment: summary('PENDING', 1784) });
  });

  it("is visible to the order's owner", async () => {
    const { accountId } = await server.sessionFor('CUSTOMER');
    const owner = await server.tokenFor('CUSTOMER', { accountId });
    const { order } = await placeOrder({ as: owner });
    await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });

    const res = await server.gql(ORDER_QUERY, { id: order.id }, owner);
    expect(res.errors).toBeUndefined();
    expect(res.data.order).toMatchObject({
      id: order.id,
      financialStatus: 'PARTIALLY_PAID',
      payment: summary('AUTHORIZED', 1784, 500),
    });
  });
});

describe('paymentCapture', () => {
  it('captures all that was authorized when no amount is given: PAID, the payment closed', async () => {
    const { order, orderId } = await placeOrder();

    const captured = await succeeded('paymentCapture', { orderId: order.id, idempotencyKey: newKey() });

    expect(captured).toMatchObject({ id: order.id, payment: summary('CAPTURED', 1784, 1784) });
    expect(statuses(captured)).toEqual(['OPEN', 'PAID', 'UNFULFILLED']);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', capturedAmount: 1784, refundedAmount: 0 });
    // capturing all that is left closes the authorization, as a final capture does
    expect(await chargeOf(orderId)).toMatchObject({ captured: 1784, voided: true });
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1784, accountId: staffId }]);
    // a capture moves the money only
    expect(await eventsOf(orderId)).toEqual([
      ...AUTHORIZED_AT_CHECKOUT,
      ['FINANCIAL', 'AUTHORIZED', 'PAID', 'captured 17.84 USD (final capture)', staffId],
    ]);
  });

  it('captures part of the authorization: PARTIALLY_PAID, the rest still open', async () => {
    const { order, orderId } = await placeOrder();

    const captured = await succeeded('paymentCapture', {
      orderId: order.id,
      amount: '12.34',
      idempotencyKey: newKey(),
    });

    expect(captured.financialStatus).toBe('PARTIALLY_PAID');
    expect(captured.payment).toEqual(summary('AUTHORIZED', 1784, 1234));
    expect(await paymentOf(orderId)).toMatchObject({ status: 'AUTHORIZED', amount: 1784, capturedAmount: 1234 });
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1234, accountId: staffId }]);
  });

  it('captures in parts, then a final capture closes the payment and releases the rest', async () => {
    const { order, orderId } = await placeOrder();

    const first = await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });
    expect(first).toMatchObject({ financialStatus: 'PARTIALLY_PAID', payment: summary('AUTHORIZED', 1784, 500) });

    // no more than what is left of the authorization
    expect(await operated('paymentCapture', { orderId: order.id, amount: '12.85', idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('amount', 'Capture between 0.01 USD and 12.84 USD.')],
    });

    const second = await succeeded('paymentCapture', { orderId: order.id, amount: '3.00', idempotencyKey: newKey() });
    expect(second).toMatchObject({ financialStatus: 'PARTIALLY_PAID', payment: summary('AUTHORIZED', 1784, 800) });

    const last = await succeeded('paymentCapture', {
      orderId: order.id,
      amount: '2.00',
      finalCapture: true,
      idempotencyKey: newKey(),
    });
    expect(last).toMatchObject({ financialStatus: 'PAID', payment: summary('CAPTURED', 1784, 1000) });
    expect(statuses(last)).toEqual(['OPEN', 'PAID', 'UNFULFILLED']);

    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', amount: 1784, capturedAmount: 1000 });
    // the processor captured 10.00 and released the other 7.84
    expect(await chargeOf(orderId)).toMatchObject({ amount: 1784, captured: 1000, voided: true });
    expect(await operationsOf(orderId)).toEqual([
      { kind: 'CAPTURE', amount: 500, accountId: staffId },
      { kind: 'CAPTURE', amount: 300, accountId: staffId },
      { kind: 'CAPTURE', amount: 200, accountId: staffId },
    ]);
    expect(await eventsOf(orderId)).toEqual([
      ...AUTHORIZED_AT_CHECKOUT,
      ['FINANCIAL', 'AUTHORIZED', 'PARTIALLY_PAID', 'captured 5.00 USD', staffId],
      ['FINANCIAL', 'PARTIALLY_PAID', 'PARTIALLY_PAID', 'captured 3.00 USD', staffId],
      ['FINANCIAL', 'PARTIALLY_PAID', 'PAID', 'captured 2.00 USD (final capture)', staffId],
    ]);

    // nothing is left to capture after the final one
    const before = await paymentState();
    expect(await operated('paymentCapture', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'A CAPTURED payment has nothing left to capture.')],
    });
    expect(await paymentState()).toEqual(before);
  });

  it.each([
    ['more than was authorized', '17.85'],
    ['nothing', '0.00'],
  ])('refuses to capture %s, changing nothing', async (_, amount) => {
    const { order } = await placeOrder();
    const before = await paymentState();

    const payload = await operated('paymentCapture', { orderId: order.id, amount, idempotencyKey: newKey() });

    expect(payload).toEqual({
      order: null,
      userErrors: [invalid('amount', 'Capture between 0.01 USD and 17.84 USD.')],
    });
    expect(await paymentState()).toEqual(before);
  });

  it('refuses a payment with nothing open to capture (captured, pending), changing nothing', async () => {
    const { order } = await placeOrder();
    await succeeded('paymentCapture', { orderId: order.id, idempotencyKey: newKey() });
    const pending = await placeOrder({ card: 'tok_requires_action' });
    const before = await paymentState();

    expect(await operated('paymentCapture', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'A CAPTURED payment has nothing left to capture.')],
    });
    expect(await operated('paymentCapture', { orderId: pending.order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'A PENDING payment has nothing left to capture.')],
    });
    expect(await paymentState()).toEqual(before);
  });

  it('refuses to capture on a cancelled order, changing nothing', async () => {
    const { order, orderId } = await placeOrder();
    const cancelled = (await shop.done('orderCancel', { orderId: order.id }, staff)).order;
    expect(statuses(cancelled)).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    const before = await paymentState();

    for (const amount of [undefined, '1.00']) {
      expect(await operated('paymentCapture', { orderId: order.id, amount, idempotencyKey: newKey() })).toEqual({
        order: null,
        userErrors: [invalid('orderId', 'Nothing can be captured on an order that is CANCELLED.')],
      });
    }
    expect(await paymentState()).toEqual(before);
    expect(await chargeOf(orderId)).toMatchObject({ captured: 0, voided: true });
  });

  it('refuses to capture on a cancelled order even while its payment still reads AUTHORIZED', async () => {
    const { order, orderId } = await placeOrder();
    // as if the cancellation had been recorded and its void not yet
    await server.prisma.order.update({
      where: { id: orderId },
      data: { status: 'CANCELLED', financialStatus: 'VOIDED' },
    });
    const before = await paymentState();

    expect(await operated('paymentCapture', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'Nothing can be captured on an order that is CANCELLED.')],
    });
    expect(await paymentState()).toEqual(before);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'AUTHORIZED', capturedAmount: 0 });
    expect(await chargeOf(orderId)).toMatchObject({ captured: 0 });
  });

  it('returns the same result for a replayed idempotency key and captures once', async () => {
    const { order, orderId } = await placeOrder();
    const input = { orderId: order.id, amount: '10.00', idempotencyKey: newKey() };

    const first = await operated('paymentCapture', input);
    const second = await operated('paymentCapture', input);

    expect(first.userErrors).toEqual([]);
    expect(first.order!.payment).toEqual(summary('AUTHORIZED', 1784, 1000));
    expect(second).toEqual(first);
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1000, accountId: staffId }]);
    expect(await server.prisma.paymentOperation.count({ where: { key: input.idempotencyKey } })).toBe(1);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'AUTHORIZED', capturedAmount: 1000 });
    expect(await chargeOf(orderId)).toMatchObject({ captured: 1000 });
  });

  it('captures once for concurrent requests with the same idempotency key; each gets the result or "still running"', async () => {
    const { order, orderId } = await placeOrder();
    const input = { orderId: order.id, idempotencyKey: newKey() };

    const results = await Promise.all(Array.from({ length: 4 }, () => operated('paymentCapture', input)));

    const success = { order: expect.objectContaining({ payment: summary('CAPTURED', 1784, 1784) }), userErrors: [] };
    expect(results.filter((result) => result.userErrors.length === 0).length).toBeGreaterThan(0);
    for (const result of results) {
      if (result.userErrors.length) expect(result).toEqual({ order: null, userErrors: [STILL_RUNNING] });
      else expect(result).toEqual(success);
    }
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1784, accountId: staffId }]);
    expect(await chargeOf(orderId)).toMatchObject({ captured: 1784 });
    // once it has finished, the key replays its result
    expect(await operated('paymentCapture', input)).toEqual(success);
  });

  it('answers IDEMPOTENCY_KEY_REUSED for a key already used for another request, changing nothing', async () => {
    const { order } = await placeOrder();
    const other = await placeOrder();
    const idempotencyKey = newKey();
    await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey });
    const before = await paymentState();

    const reused = { order: null, userErrors: [KEY_REUSED] };
    expect(await operated('paymentCapture', { orderId: order.id, amount: '6.00', idempotencyKey })).toEqual(reused);
    expect(await operated('paymentCapture', { orderId: order.id, idempotencyKey })).toEqual(reused);
    expect(await operated('paymentVoid', { orderId: order.id, idempotencyKey })).toEqual(reused);
    expect(await operated('paymentRefund', { orderId: order.id, amount: '1.00', idempotencyKey })).toEqual(reused);
    expect(await operated('paymentCapture', { orderId: other.order.id, amount: '5.00', idempotencyKey })).toEqual(
      reused,
    );
    expect(await paymentState()).toEqual(before);
  });

  it.each([
    ['shorter than 8 characters', 'short12'],
    ['longer than 100 characters', 'k'.repeat(101)],
  ])('refuses an idempotency key %s with an INVALID user error', async (_, idempotencyKey) => {
    const { order } = await placeOrder();
    const before = await paymentState();

    for (const name of PAYMENT_OPERATIONS) {
      expect(await operated(name, inputFor(name, order.id, idempotencyKey))).toEqual({
        order: null,
        userErrors: [invalid('idempotencyKey', 'The idempotency key must be 8 to 100 characters.')],
      });
    }
    expect(await paymentState()).toEqual(before);
  });
});

describe('paymentVoid', () => {
  it('voids an unshipped order with nothing captured: VOIDED and CANCELLED, its stock back on hand', async () => {
    const { order, orderId, variant, total } = await placeOrder({ quantity: 2 });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 8, stockReserved: 0 });

    const voided = await succeeded('paymentVoid', { orderId: order.id, idempotencyKey: newKey() });

    expect(statuses(voided)).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    expect(voided.payment).toEqual(summary('VOIDED', total));
    expect(await paymentOf(orderId)).toMatchObject({ status: 'VOIDED', capturedAmount: 0, refundedAmount: 0 });
    expect(await chargeOf(orderId)).toMatchObject({ captured: 0, voided: true });
    expect(await operationsOf(orderId)).toEqual([{ kind: 'VOID', amount: total, accountId: staffId }]);
    expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 0 });
    expect(await ledgerOf(variant)).toEqual([
      { reason: `order #${order.number}`, before: 10, after: 8 },
      { reason: `order #${order.number} cancelled`, before: 8, after: 10 },
    ]);
    expect(await eventsOf(orderId)).toEqual([
      ...AUTHORIZED_AT_CHECKOUT,
      ['STATUS', 'OPEN', 'CANCELLED', 'authorization voided', staffId],
      ['FINANCIAL', 'AUTHORIZED', 'VOIDED', 'authorization voided', staffId],
    ]);
    // the voided, cancelled order takes no capture
    expect(await operated('paymentCapture', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'Nothing can be captured on an order that is CANCELLED.')],
    });
  });

  it('releases the rest after a partial capture: PAID, the order stays open', async () => {
    const { order, orderId, variant } = await placeOrder();
    await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });

    const voided = await succeeded('paymentVoid', { orderId: order.id, idempotencyKey: newKey() });

    expect(statuses(voided)).toEqual(['OPEN', 'PAID', 'UNFULFILLED']);
    expect(voided.payment).toEqual(summary('CAPTURED', 1784, 500));
    expect(await chargeOf(orderId)).toMatchObject({ captured: 500, voided: true });
    expect(await operationsOf(orderId)).toEqual([
      { kind: 'CAPTURE', amount: 500, accountId: staffId },
      { kind: 'VOID', amount: 1284, accountId: staffId },
    ]);
    expect(await stockOf(variant)).toEqual({ stockOnHand: 9, stockReserved: 0 });
  });

  it('refuses a captured payment, changing nothing', async () => {
    const { order } = await placeOrder();
    await succeeded('paymentCapture', { orderId: order.id, idempotencyKey: newKey() });
    const before = await paymentState();

    expect(await operated('paymentVoid', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'A CAPTURED payment cannot be voided.')],
    });
    expect(await paymentState()).toEqual(before);
  });
});

describe('paymentRefund', () => {
  /** An order whose whole total (1784, or more for more units) is captured: PAID. */
  async function capturedOrder(quantity = 1) {
    const placed = await placeOrder({ quantity });
    await succeeded('paymentCapture', { orderId: placed.order.id, idempotencyKey: newKey() });
    return placed;
  }

  it('refunds part (PARTIALLY_REFUNDED), then the rest (REFUNDED), each with an event', async () => {
    const { order, orderId } = await capturedOrder();

    const partly = await succeeded('paymentRefund', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });

    expect(partly).toMatchObject({
      status: 'OPEN',
      financialStatus: 'PARTIALLY_REFUNDED',
      payment: summary('CAPTURED', 1784, 1784, 500),
    });
    expect(partly.events.at(-1)).toMatchObject({
      kind: 'FINANCIAL',
      from: 'PAID',
      to: 'PARTIALLY_REFUNDED',
      note: 'refunded 5.00 USD',
    });
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1784, refundedAmount: 500 });

    const fully = await succeeded('paymentRefund', { orderId: order.id, amount: '12.84', idempotencyKey: newKey() });

    expect(fully).toMatchObject({ financialStatus: 'REFUNDED', payment: summary('CAPTURED', 1784, 1784, 1784) });
    // money refunded is no reason to close or cancel: the goods are still to ship
    expect(statuses(fully)).toEqual(['OPEN', 'REFUNDED', 'UNFULFILLED']);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', capturedAmount: 1784, refundedAmount: 1784 });
    expect(await chargeOf(orderId)).toMatchObject({ captured: 1784, refunded: 1784 });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'OPEN',
      financialStatus: 'REFUNDED',
    });
    expect(await eventsOf(orderId)).toEqual([
      ...AUTHORIZED_AT_CHECKOUT,
      ['FINANCIAL', 'AUTHORIZED', 'PAID', 'captured 17.84 USD (final capture)', staffId],
      ['FINANCIAL', 'PAID', 'PARTIALLY_REFUNDED', 'refunded 5.00 USD', staffId],
      ['FINANCIAL', 'PARTIALLY_REFUNDED', 'REFUNDED', 'refunded 12.84 USD', staffId],
    ]);
    expect(await operationsOf(orderId)).toEqual([
      { kind: 'CAPTURE', amount: 1784, accountId: staffId },
      { kind: 'REFUND', amount: 500, accountId: staffId },
      { kind: 'REFUND', amount: 1284, accountId: staffId },
    ]);
  });

  it('refunds only what was captured of a partial capture', async () => {
    const { order, orderId } = await placeOrder();
    await succeeded('paymentCapture', { orderId: order.id, amount: '10.00', idempotencyKey: newKey() });

    expect(await operated('paymentRefund', { orderId: order.id, amount: '10.01', idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('amount', 'Refund between 0.01 USD and 10.00 USD.')],
    });
    const refunded = await succeeded('paymentRefund', { orderId: order.id, amount: '10.00', idempotencyKey: newKey() });
    // all that was captured is back, but the authorization is still open: only partly refunded
    expect(refunded).toMatchObject({
      financialStatus: 'PARTIALLY_REFUNDED',
      payment: summary('AUTHORIZED', 1784, 1000, 1000),
    });
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1000, refundedAmount: 1000 });
  });

  it('refuses more than captured minus refunded, changing nothing', async () => {
    const { order } = await capturedOrder();
    await succeeded('paymentRefund', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });
    const before = await paymentState();

    for (const amount of ['12.85', '17.84', '100.00']) {
      expect(await operated('paymentRefund', { orderId: order.id, amount, idempotencyKey: newKey() })).toEqual({
        order: null,
        userErrors: [invalid('amount', 'Refund between 0.01 USD and 12.84 USD.')],
      });
    }
    expect(await paymentState()).toEqual(before);
    expect(await readOrder(order.id)).toMatchObject({
      financialStatus: 'PARTIALLY_REFUNDED',
      payment: summary('CAPTURED', 1784, 1784, 500),
    });
  });

  it('refuses a zero amount, a negative one, no amount or lines, and a payment that was never captured', async () => {
    const { order } = await capturedOrder();
    const uncaptured = await placeOrder();
    const before = await paymentState();

    expect(await operated('paymentRefund', { orderId: order.id, amount: '0.00', idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('amount', 'Refund between 0.01 USD and 17.84 USD.')],
    });
    const negative = await operate('paymentRefund', { orderId: order.id, amount: '-1.00', idempotencyKey: newKey() });
    expect(codes(negative)).toEqual(['BAD_USER_INPUT']);
    expect(await operated('paymentRefund', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('amount', 'Give an amount or lines to refund.')],
    });
    expect(
      await operated('paymentRefund', { orderId: uncaptured.order.id, amount: '1.00', idempotencyKey: newKey() }),
    ).toEqual({ order: null, userErrors: [invalid('orderId', 'Nothing captured is left to refund.')] });
    expect(await paymentState()).toEqual(before);
  });

  it('refunds lines with restock: their price and tax share, the units back on hand and off what is left to ship', async () => {
    const { order, orderId, variant } = await capturedOrder(3);
    expect(await stockOf(variant)).toEqual({ stockOnHand: 7, stockReserved: 0 });
    const line = order.lines[0]!;
    expect(line).toMatchObject({ quantity: 3, fulfillableQuantity: 3, refundedQuantity: 0 });

    const refunded = await succeeded('paymentRefund', {
      orderId: order.id,
      lines: [{ orderLineId: line.id, quantity: 1, restock: true }],
      idempotencyKey: newKey(),
    });

    // 10.00 and its share of the tax: 665 × 1000 / 3499 = 190 (tax is on 30.00 + 4.99 shipping)
    expect(refunded.total).toEqual(usd(4164));
    expect(refunded).toMatchObject({
      financialStatus: 'PARTIALLY_REFUNDED',
      fulfillmentStatus: 'UNFULFILLED',
      payment: summary('CAPTURED', 4164, 4164, 1190),
    });
    expect(refunded.lines[0]).toMatchObject({ refundedQuantity: 1, fulfilledQuantity: 0, fulfillableQuantity: 2 });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 8, stockReserved: 0 });
    expect(await ledgerOf(variant)).toEqual([
      { reason: `order #${order.number}`, before: 10, after: 7 },
      { reason: `order #${order.number} refund`, before: 7, after: 8 },
    ]);
    expect(await operationsOf(orderId)).toEqual([
      { kind: 'CAPTURE', amount: 4164, accountId: staffId },
      { kind: 'REFUND', amount: 1190, accountId: staffId },
    ]);
    expect((await eventsOf(orderId)).at(-1)).toEqual([
      'FINANCIAL',
      'PAID',
      'PARTIALLY_REFUNDED',
      'refunded 11.90 USD',
      staffId,
    ]);

    // a refund without restock takes the unit off what is left to ship, and leaves the stock as it is
    const kept = await succeeded('paymentRefund', {
      orderId: order.id,
      lines: [{ orderLineId: line.id, quantity: 1 }],
      idempotencyKey: newKey(),
    });
    expect(kept.lines[0]).toMatchObject({ refundedQuantity: 2, fulfillableQuantity: 1 });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 8, stockReserved: 0 });

    // fulfilling without lines packs only what is left: one unit, and the order is fulfilled
    const packed = await shop.done('orderFulfill', { orderId: order.id, carrier: 'DHL', trackingNumber: 'JD1' }, staff);
    expect(packed.order.fulfillmentStatus).toBe('FULFILLED');
    expect(packed.order.lines[0]).toMatchObject({ fulfilledQuantity: 1, refundedQuantity: 2, fulfillableQuantity: 0 });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 8, stockReserved: 0 });

    // more units than are left unrefunded are refused
    expect(
      await operated('paymentRefund', {
        orderId: order.id,
        lines: [{ orderLineId: line.id, quantity: 2 }],
        idempotencyKey: newKey(),
      }),
    ).toEqual({
      order: null,
      userErrors: [invalid('lines', `Line ${line.sku}: refund 1 to 1 units, once per refund.`)],
    });
  });

  it('refunds nothing new for a reused key with another amount: IDEMPOTENCY_KEY_REUSED', async () => {
    const { order, orderId } = await capturedOrder();
    const idempotencyKey = newKey();
    const first = await operated('paymentRefund', { orderId: order.id, amount: '1.00', idempotencyKey });
    expect(first.order!.payment).toEqual(summary('CAPTURED', 1784, 1784, 100));
    // the same request again replays it
    expect(await operated('paymentRefund', { orderId: order.id, amount: '1.00', idempotencyKey })).toEqual(first);
    const before = await paymentState();

    for (const amount of ['2.00', '0.50']) {
      expect(await operated('paymentRefund', { orderId: order.id, amount, idempotencyKey })).toEqual({
        order: null,
        userErrors: [KEY_REUSED],
      });
    }
    expect(
      await operated('paymentRefund', {
        orderId: order.id,
        lines: [{ orderLineId: order.lines[0]!.id, quantity: 1 }],
        idempotencyKey,
      }),
    ).toEqual({ order: null, userErrors: [KEY_REUSED] });

    expect(await paymentState()).toEqual(before);
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1784, refundedAmount: 100 });
    expect(await chargeOf(orderId)).toMatchObject({ refunded: 100 });
    expect(await operationsOf(orderId)).toEqual([
      { kind: 'CAPTURE', amount: 1784, accountId: staffId },
      { kind: 'REFUND', amount: 100, accountId: staffId },
    ]);
  });

  /** 15 concurrent refunds of 1.00 each against 10.00 captured. */
  async function racingRefunds() {
    const { order, orderId } = await placeOrder();
    await succeeded('paymentCapture', { orderId: order.id, amount: '10.00', idempotencyKey: newKey() });
    const results = await Promise.all(
      Array.from({ length: 15 }, () =>
        operated('paymentRefund', { orderId: order.id, amount: '1.00', idempotencyKey: newKey() }),
      ),
    );
    return { order, orderId, results, successes: results.filter((result) => result.userErrors.length === 0) };
  }

  it('never refunds more than captured under 15 concurrent refunds of a tenth each', async () => {
    const { orderId, results, successes } = await racingRefunds();

    const payment = await paymentOf(orderId);
    expect(payment.capturedAmount).toBe(1000);
    expect(payment.refundedAmount).toBeLessThanOrEqual(1000);
    expect(successes.length).toBeGreaterThan(0);
    // what the responses claim is what the database holds, one REFUND operation per success
    expect(successes.length * 100).toBe(payment.refundedAmount);
    expect((await chargeOf(orderId)).refunded).toBe(payment.refundedAmount);
    const refunds = (await operationsOf(orderId)).filter((op) => op.kind === 'REFUND');
    expect(refunds).toEqual(successes.map(() => ({ kind: 'REFUND', amount: 100, accountId: staffId })));
    for (const failure of results.filter((result) => result.userErrors.length > 0)) {
      expect(failure.order).toBeNull();
      expect(failure.userErrors).toHaveLength(1);
      expect(['INVALID', 'CONFLICT']).toContain(failure.userErrors[0]!.code);
    }
    // the database refuses a refunded amount above the captured one on its own
    await expect(
      server.prisma.payment.update({ where: { id: payment.id }, data: { refundedAmount: 1001 } }),
    ).rejects.toThrow(/payment_refunded_amount_check|check constraint/i);
    expect(await paymentOf(orderId)).toEqual(payment);
  });

  it('lets every concurrent refund that fits succeed: ten of 15, exactly the captured amount', async () => {
    const { order, orderId, results, successes } = await racingRefunds();

    const outcomes = results.map((result) => result.userErrors.map((e) => e.code).join()).sort();
    expect(outcomes).toEqual([...Array<string>(10).fill(''), ...Array<string>(5).fill('INVALID')]);
    expect(successes).toHaveLength(10);
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1000, refundedAmount: 1000 });
    expect(await readOrder(order.id)).toMatchObject({
      financialStatus: 'PARTIALLY_REFUNDED',
      payment: summary('AUTHORIZED', 1784, 1000, 1000),
    });
  });
});

describe('who may capture, void and refund', () => {
  it.each([
    ['a customer', 'FORBIDDEN'],
    ['an anonymous visitor', 'UNAUTHENTICATED'],
  ])('%s is refused with %s and nothing changes', async (caller, code) => {
    const { order } = await placeOrder();
    const token = caller === 'a customer' ? await server.tokenFor('CUSTOMER') : null;
    const before = await paymentState();

    for (const name of PAYMENT_OPERATIONS) {
      const res = await operate(name, inputFor(name, order.id, newKey()), token);
      expect(codes(res)).toEqual([code]);
      expect(res.data).toBeNull();
    }
    expect(await paymentState()).toEqual(before);
  });

  it("refuses even the order's owner", async () => {
    const { accountId } = await server.sessionFor('CUSTOMER');
    const owner = await server.tokenFor('CUSTOMER', { accountId });
    const { order } = await placeOrder({ as: owner });

    const res = await operate('paymentCapture', { orderId: order.id, idempotencyKey: newKey() }, owner);
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect(await readOrder(order.id, owner)).toMatchObject({
      financialStatus: 'AUTHORIZED',
      payment: summary('AUTHORIZED', 1784),
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The webhook endpoint

const deliver = (delivery: WebhookDelivery) => deliverWebhook(server, delivery);
const eventBody = webhookBody;
const accepted = { status: 200, body: { received: true, duplicate: false }, retryAfter: null };
const duplicate = { status: 200, body: { received: true, duplicate: true }, retryAfter: null };
const invalidWebhook = { status: 400, body: { error: 'invalid webhook' }, retryAfter: null };

/** An OPEN order of 3 units whose payment is PENDING (10 on hand, 3 reserved), and its processor reference. */
async function pendingOrder() {
  const placed = await placeOrder({ card: 'tok_requires_action', quantity: 3 });
  expect(statuses(placed.order)).toEqual(['OPEN', 'PENDING', 'UNFULFILLED']);
  expect(await stockOf(placed.variant)).toEqual({ stockOnHand: 10, stockReserved: 3 });
  const { providerReference } = await paymentOf(placed.orderId);
  expect(providerReference).toMatch(/^sandbox_/);
  return { ...placed, reference: providerReference! };
}

/** The events of a checkout the processor has yet to confirm. */
const PENDING_AT_CHECKOUT = [
  ['STATUS', null, 'CHECKOUT', null, null],
  ['STATUS', 'CHECKOUT', 'OPEN', 'waiting for the payment', null],
];

const emailsTo = (to: string) => server.prisma.outboxEmail.findMany({ where: { to }, orderBy: { createdAt: 'asc' } });
/** The outbox events written for an order, oldest first. */
const outboxOf = async (orderId: string) =>
  (await server.prisma.outboxEvent.findMany({ orderBy: { id: 'asc' } })).filter(
    (event) => (event.payload as { orderId?: string }).orderId === orderId,
  );

/** Collects what orderStatusChanged pushes to staff for an order. */
function listen(orderId: string) {
  const client = createClient({
    url: server.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${staff}` },
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  const received: unknown[] = [];
  const stop = client.subscribe(
    {
      query: 'subscription ($orderId: ID!) { orderStatusChanged(orderId: $orderId) { id status financialStatus } }',
      variables: { orderId },
    },
    { next: (value) => void received.push(value), error: (error) => void received.push({ error }), complete: () => {} },
  );
  return { received, stop };
}

describe('POST /webhooks/payments/:provider', () => {
  it('payment.authorized confirms a pending order, sells its stock and tells the customer, once', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();
    await server.runtime.relay.flush();
    expect(await emailsTo(order.email)).toEqual([]);
    const pushes = listen(order.id);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the subscription is registered
    const body = eventBody('payment.authorized', reference, total);
    const delivery = { body, signature: signWebhook(TEST_WEBHOOK_SECRET, body) };

    expect(await deliver(delivery)).toEqual(accepted);

    expect(await readOrder(order.id)).toMatchObject({
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      fulfillmentStatus: 'UNFULFILLED',
      payment: summary('AUTHORIZED', total),
    });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      reservedUntil: null,
    });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'AUTHORIZED', providerReference: reference });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 7, stockReserved: 0 });
    expect(await ledgerOf(variant)).toEqual([{ reason: `order #${order.number}`, before: 10, after: 7 }]);
    expect(await eventsOf(orderId)).toEqual([
      ...PENDING_AT_CHECKOUT,
      ['FINANCIAL', 'PENDING', 'AUTHORIZED', 'payment.authorized reported by sandbox', null],
    ]);
    expect(await server.prisma.paymentWebhookEvent.count({ where: { eventId: JSON.parse(body).id } })).toBe(1);

    // through the outbox: the move is pushed to subscribers and the confirmation email is queued
    const confirmation = await eventually(
      () => emailsTo(order.email),
      (emails) => emails.length > 0,
    );
    expect(confirmation).toMatchObject([{ subject: `Order #${order.number} confirmed` }]);
    expect(confirmation[0]!.body).toContain(`Total: ${(total / 100).toFixed(2)} USD`);
    await eventually(
      async () => pushes.received.length,
      (count) => count > 0,
    );
    expect(pushes.received).toEqual([
      { data: { orderStatusChanged: { id: order.id, status: 'OPEN', financialStatus: 'AUTHORIZED' } } },
    ]);
    const events = await eventually(
      () => outboxOf(orderId),
      (rows) => rows.every((row) => row.deliveredAt !== null),
    );
    expect(events.at(-1)!.payload).toEqual({
      orderId,
      moves: [{ kind: 'FINANCIAL', from: 'PENDING', to: 'AUTHORIZED' }],
    });
    expect(events.every((row) => row.deliveredAt !== null)).toBe(true);
    pushes.stop();

    // the same delivery again is acknowledged and ignored
    const before = await paymentState();
    expect(await deliver(delivery)).toEqual(duplicate);
    expect(await paymentState()).toEqual(before);
    await server.runtime.relay.flush();
    expect(await emailsTo(order.email)).toHaveLength(1);
  });

  it('payment.failed cancels a pending order and releases its stock', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();

    const res = await deliver({ body: eventBody('payment.failed', reference, total) });

    expect(res).toEqual(accepted);
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'CANCELLED',
      financialStatus: 'VOIDED',
      reservedUntil: null,
    });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'FAILED', failureCode: 'async_failure' });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 0 });
    expect(await ledgerOf(variant)).toEqual([]);
    expect(await eventsOf(orderId)).toEqual([
      ...PENDING_AT_CHECKOUT,
      ['STATUS', 'OPEN', 'CANCELLED', 'payment.failed reported by sandbox', null],
      ['FINANCIAL', 'PENDING', 'VOIDED', 'payment.failed reported by sandbox', null],
    ]);
    // the failed attempt stays on the order for the record
    expect(await readOrder(order.id)).toMatchObject({
      status: 'CANCELLED',
      financialStatus: 'VOIDED',
      payment: summary('FAILED', total),
    });
  });

  it('payment.authorized for an order still being checked out asks for the event again later (503)', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();
    // as if the checkout were still recording the processor's first answer
    await server.prisma.order.update({ where: { id: orderId }, data: { status: 'CHECKOUT' } });
    const body = eventBody('payment.authorized', reference, total);
    const before = await paymentState();

    const early = await deliver({ body });

    expect(early).toEqual({
      status: 503,
      body: { error: 'not ready for this event yet; deliver it again' },
      retryAfter: '5',
    });
    // nothing was recorded, not even the event ID: the redelivery is applied
    expect(await paymentState()).toEqual(before);

    await server.prisma.order.update({ where: { id: orderId }, data: { status: 'OPEN' } });
    expect(await deliver({ body })).toEqual(accepted);
    expect(await readOrder(order.id)).toMatchObject({ status: 'OPEN', financialStatus: 'AUTHORIZED' });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 7, stockReserved: 0 });
  });

  it('payment.authorized for a cancelled order leaves it cancelled and its authorization voided', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();
    const cancelled = (await shop.done('orderCancel', { orderId: order.id }, staff)).order;
    expect(statuses(cancelled)).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 0 });

    expect(await deliver({ body: eventBody('payment.authorized', reference, total) })).toEqual(accepted);

    expect(statuses(await readOrder(order.id))).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'VOIDED', capturedAmount: 0 });
    expect(await chargeOf(orderId)).toMatchObject({ captured: 0, voided: true });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 0 });
    expect(await ledgerOf(variant)).toEqual([]);
  });

  it('payment.authorized that wins a race with the cancellation voids the authorization at the processor', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();
    // the order was cancelled and its stock released, but its pending payment not yet voided
    await server.prisma.$transaction([
      server.prisma.order.update({
        where: { id: orderId },
        data: { status: 'CANCELLED', financialStatus: 'VOIDED', reservedUntil: null },
      }),
      server.prisma.productVariant.update({ where: { id: variant.id }, data: { stockReserved: 0 } }),
    ]);
    expect(await chargeOf(orderId)).toMatchObject({ voided: false });

    expect(await deliver({ body: eventBody('payment.authorized', reference, total) })).toEqual(accepted);

    expect(await chargeOf(orderId)).toMatchObject({ captured: 0, voided: true });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'VOIDED' });
    expect(statuses(await readOrder(order.id))).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 0 });
  });

  it('payment.captured and payment.refunded carry totals that never lower what is recorded', async () => {
    const { order, orderId } = await placeOrder();
    const { providerReference: reference } = await paymentOf(orderId);
    await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });

    // a late capture total below the recorded one changes nothing
    expect(await deliver({ body: eventBody('payment.captured', reference, 300) })).toEqual(accepted);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'AUTHORIZED', capturedAmount: 500 });
    // a higher total is what the processor captured meanwhile
    expect(await deliver({ body: eventBody('payment.captured', reference, 1000) })).toEqual(accepted);
    expect(await readOrder(order.id)).toMatchObject({
      financialStatus: 'PARTIALLY_PAID',
      payment: summary('AUTHORIZED', 1784, 1000),
    });

    await succeeded('paymentRefund', { orderId: order.id, amount: '3.00', idempotencyKey: newKey() });
    await succeeded('paymentRefund', { orderId: order.id, amount: '2.00', idempotencyKey: newKey() });
    const events = await eventsOf(orderId);

    // payment.refunded for the first refund alone arrives after the second was recorded
    expect(await deliver({ body: eventBody('payment.refunded', reference, 300) })).toEqual(accepted);
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1000, refundedAmount: 500 });
    expect(await readOrder(order.id)).toMatchObject({
      financialStatus: 'PARTIALLY_REFUNDED',
      payment: summary('AUTHORIZED', 1784, 1000, 500),
    });
    expect(await eventsOf(orderId)).toEqual(events);

    // a higher total grows it, never beyond what was captured
    expect(await deliver({ body: eventBody('payment.refunded', reference, 800) })).toEqual(accepted);
    expect(await paymentOf(orderId)).toMatchObject({ refundedAmount: 800 });
    expect(await deliver({ body: eventBody('payment.refunded', reference, 5000) })).toEqual(accepted);
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1000, refundedAmount: 1000 });
  });

  describe('rejected deliveries change nothing', () => {
    const stale = (body: string) => signWebhook(TEST_WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000) - 400);
    const cases: [string, (reference: string) => WebhookDelivery, unknown][] = [
      [
        'a signature made with another secret',
        (reference) => {
          const body = eventBody('payment.authorized', reference, 5353);
          return { body, signature: signWebhook('another-secret-that-is-long-enough-too', body) };
        },
        invalidWebhook,
      ],
      [
        'a signature over another body',
        (reference) => ({
          body: eventBody('payment.authorized', reference, 5353),
          signature: signWebhook(TEST_WEBHOOK_SECRET, eventBody('payment.authorized', reference, 5353)),
        }),
        invalidWebhook,
      ],
      [
        'no signature',
        (reference) => ({ body: eventBody('payment.authorized', reference, 5353), signature: '' }),
        invalidWebhook,
      ],
      [
        'a signature older than 5 minutes',
        (reference) => {
          const body = eventBody('payment.authorized', reference, 5353);
          return { body, signature: stale(body) };
        },
        invalidWebhook,
      ],
      [
        'a signed body that is not a payment event',
        (reference) => ({ body: eventBody('charge.succeeded', reference, 5353) }),
        invalidWebhook,
      ],
      [
        'a signed event without an amount',
        (reference) => ({ body: JSON.stringify({ id: `evt_${randomUUID()}`, type: 'payment.authorized', reference }) }),
        invalidWebhook,
      ],
      [
        'a signed event with a negative amount',
        (reference) => ({ body: eventBody('payment.authorized', reference, -5353) }),
        invalidWebhook,
      ],
      [
        'a signed payment.refunded with a negative amount',
        (reference) => ({ body: eventBody('payment.refunded', reference, -1) }),
        invalidWebhook,
      ],
      ['a signed body that is not JSON', () => ({ body: 'payment.authorized' }), invalidWebhook],
      [
        'an unknown provider',
        (reference) => ({ body: eventBody('payment.authorized', reference, 5353), provider: 'stripe' }),
        { status: 404, body: { error: 'unknown provider' }, retryAfter: null },
      ],
    ];

    it.each(cases)('%s', async (_, make, expected) => {
      const { order, variant, reference } = await pendingOrder();
      const before = await paymentState();

      expect(await deliver(make(reference))).toEqual(expected);

      expect(await paymentState()).toEqual(before);
      expect(await readOrder(order.id)).toMatchObject({
        status: 'OPEN',
        financialStatus: 'PENDING',
        payment: { status: 'PENDING' },
      });
      expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 3 });
    });
  });
});
