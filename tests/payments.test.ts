// Staff payment operations and payment webhooks end to end over HTTP: Order.payment after checkout, paymentCapture,
// paymentVoid and paymentRefund with their idempotency keys, limits, races and permissions, and the sandbox webhook
// endpoint with its signature, freshness and duplicate checks. Every result is checked in the database too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { databaseIdOf, toGlobalId } from '../src/graphql/globalId.js';
import { signWebhook } from '../src/modules/payment/webhookSignature.js';
import { startTestServer, TEST_WEBHOOK_SECRET, type GraphQLResponse, type TestServer } from './support/testServer.js';
import { BERLIN } from './support/fixtures.js';

let server: TestServer;
let staff: string;
let staffId: string;
/** The Standard shipping method's global ID (4.99, ships to DE). */
let standard: string;

beforeAll(async () => {
  server = await startTestServer();
  await seedStoreSettings(server.prisma);
  staffId = (await server.sessionFor('STAFF')).accountId;
  staff = await server.tokenFor('STAFF', { accountId: staffId });
  const method = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
  standard = toGlobalId('ShippingMethod', method.id);
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL documents and plumbing

const MONEY = 'amount currencyCode';
const PAYMENT = `payment { status amount { ${MONEY} } captured { ${MONEY} } refunded { ${MONEY} } }`;
const ORDER = `id number status total { ${MONEY} } events { from to note } ${PAYMENT}`;
const USER_ERRORS = 'userErrors { field message code }';
const ORDER_QUERY = `query ($id: ID!) { order(id: $id) { ${ORDER} } }`;

const OPERATIONS = {
  paymentCapture: 'PaymentCaptureInput',
  paymentVoid: 'PaymentVoidInput',
  paymentRefund: 'PaymentRefundInput',
} as const;
type Operation = keyof typeof OPERATIONS;

type Money = { amount: string; currencyCode: string };
interface UserError {
  field: string[] | null;
  code: string;
  message: string;
}
interface PaymentSummary {
  status: string;
  amount: Money;
  captured: Money;
  refunded: Money;
}
interface Order {
  id: string;
  number: number;
  status: string;
  total: Money;
  events: { from: string | null; to: string; note: string | null }[];
  payment: PaymentSummary | null;
}
interface Payload {
  order: Order | null;
  userErrors: UserError[];
}

/** Minor units as the API shows them: 1784 → 17.84 USD. */
const usd = (minor: number): Money => ({ amount: (minor / 100).toFixed(2), currencyCode: 'USD' });
const newKey = (prefix = 'op') => `${prefix}-${randomUUID()}`;
const dbId = (globalId: string, type: string) => databaseIdOf(globalId, type)!;
const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
/** A valid input for `name` (a void takes no amount). */
const inputFor = (name: Operation, orderId: string, idempotencyKey: string) =>
  name === 'paymentVoid' ? { orderId, idempotencyKey } : { orderId, amount: '1.00', idempotencyKey };

/** A staff (or `token`'s, or anonymous with null) capture, void or refund. */
function operate(name: Operation, input: Record<string, unknown>, token: string | null = staff) {
  return server.gql(
    `mutation ($input: ${OPERATIONS[name]}!) { ${name}(input: $input) { order { ${ORDER} } ${USER_ERRORS} } }`,
    { input },
    token ?? undefined,
  );
}

/** The payload of an operation that answered without GraphQL errors. */
async function operated(name: Operation, input: Record<string, unknown>): Promise<Payload> {
  const res = await operate(name, input);
  expect(res.errors).toBeUndefined();
  return res.data[name];
}

/** The order of an operation that must have succeeded. */
async function succeeded(name: Operation, input: Record<string, unknown>): Promise<Order> {
  const payload = await operated(name, input);
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

async function readOrder(id: string, token: string = staff): Promise<Order> {
  const res = await server.gql(ORDER_QUERY, { id }, token);
  expect(res.errors).toBeUndefined();
  return res.data.order;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

interface Variant {
  id: string;
  gid: string;
}

let serial = 0;

/** A product with one variant of this price (minor units) and stock, written straight to the database. */
async function makeVariant({ price = 1000, stock = 100 }: { price?: number; stock?: number } = {}): Promise<Variant> {
  const sku = `PAY-${++serial}-${randomUUID().slice(0, 8)}`;
  const product = await server.prisma.product.create({
    data: {
      title: `Product ${sku}`,
      slug: sku.toLowerCase(),
      variants: { create: { sku, title: `Size ${serial}`, priceAmount: price, stockOnHand: stock } },
    },
    include: { variants: true },
  });
  const variant = product.variants[0]!;
  return { id: variant.id, gid: toGlobalId('ProductVariant', variant.id) };
}

const berlin = BERLIN;

async function cartMutation(name: string, input: Record<string, unknown>, token?: string) {
  const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
  const res = await server.gql(
    `mutation ($input: ${inputType}!) { ${name}(input: $input) { cart { id } ${USER_ERRORS} } }`,
    { input },
    token,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data[name].userErrors).toEqual([]);
  return res.data[name].cart as { id: string };
}

/** A cart of `quantity` × `variant` through cartCreate, cartBuyerIdentityUpdate (Berlin), cartShippingMethodSelect. */
async function makeCart(variant: Variant, quantity: number, as?: string) {
  const email = `buyer-${randomUUID()}@example.test`;
  let cart = await cartMutation('cartCreate', { lines: [{ variantId: variant.gid, quantity }], email }, as);
  cart = await cartMutation('cartBuyerIdentityUpdate', { cartId: cart.id, shippingAddress: berlin }, as);
  cart = await cartMutation('cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: standard }, as);
  return cart;
}

interface Placed {
  order: Order;
  /** The order's database ID. */
  orderId: string;
  variant: Variant;
  /** The order's total in minor units. */
  total: number;
}

/**
 * An order for `quantity` units of a fresh 10.00 variant with 10 on hand, checked out with `card` (tok_visa: PAID,
 * tok_requires_action: PENDING_PAYMENT), by a guest or `as`. One unit: 10.00 + 4.99 + 19 % VAT (2.85) = 17.84.
 */
async function placeOrder({
  card = 'tok_visa',
  quantity = 1,
  as,
}: { card?: string; quantity?: number; as?: string } = {}): Promise<Placed> {
  const variant = await makeVariant({ price: 1000, stock: 10 });
  const cart = await makeCart(variant, quantity, as);
  const res = await server.gql(
    `mutation ($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { ${ORDER} } ${USER_ERRORS} } }`,
    { input: { cartId: cart.id, payment: { provider: 'sandbox', token: card }, idempotencyKey: newKey('checkout') } },
    as,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data.checkoutComplete.userErrors).toEqual([]);
  const order: Order = res.data.checkoutComplete.order;
  const orderId = dbId(order.id, 'Order');
  const { totalAmount } = await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  return { order, orderId, variant, total: totalAmount };
}

// Database reads

const paymentOf = (orderId: string) => server.prisma.payment.findFirstOrThrow({ where: { orderId } });
const operationsOf = async (orderId: string) =>
  (
    await server.prisma.paymentOperation.findMany({
      where: { payment: { orderId } },
      orderBy: { createdAt: 'asc' },
    })
  ).map(({ kind, amount, accountId }) => ({ kind, amount, accountId }));
const stockOf = (variant: Variant) =>
  server.prisma.productVariant.findUniqueOrThrow({
    where: { id: variant.id },
    select: { stockOnHand: true, stockReserved: true },
  });
const eventsOf = async (orderId: string) =>
  (await server.prisma.orderEvent.findMany({ where: { orderId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(
    ({ fromStatus, toStatus, note, accountId }) => [fromStatus, toStatus, note, accountId],
  );

/** Every row a payment operation or a webhook could write, to show that a refused call wrote nothing. */
const paymentState = async () => ({
  orders: await server.prisma.order.findMany({ orderBy: { id: 'asc' }, include: { events: true } }),
  payments: await server.prisma.payment.findMany({ orderBy: { id: 'asc' } }),
  operations: await server.prisma.paymentOperation.findMany({ orderBy: { key: 'asc' } }),
  webhookEvents: await server.prisma.paymentWebhookEvent.findMany({ orderBy: { eventId: 'asc' } }),
  variants: await server.prisma.productVariant.findMany({ orderBy: { id: 'asc' } }),
  ledger: await server.prisma.inventoryChange.findMany({ orderBy: { id: 'asc' } }),
});

const summary = (status: string, amount: number, captured = 0, refunded = 0): PaymentSummary => ({
  status,
  amount: usd(amount),
  captured: usd(captured),
  refunded: usd(refunded),
});
const invalid = (field: string, message: string): UserError => ({ field: ['input', field], code: 'INVALID', message });
const CONFLICT_KEY: UserError = {
  field: ['input', 'idempotencyKey'],
  code: 'CONFLICT',
  message: 'This idempotency key was used for another operation.',
};

// ---------------------------------------------------------------------------------------------------------------

describe('Order.payment', () => {
  it('is AUTHORIZED for the whole total after an approved checkout, nothing captured or refunded', async () => {
    const { order, orderId, total } = await placeOrder();

    expect(total).toBe(1784);
    expect(order).toMatchObject({ status: 'PAID', total: usd(1784), payment: summary('AUTHORIZED', 1784) });
    expect(await readOrder(order.id)).toMatchObject({ payment: summary('AUTHORIZED', 1784) });
    expect(await paymentOf(orderId)).toMatchObject({
      status: 'AUTHORIZED',
      amount: 1784,
      capturedAmount: 0,
      refundedAmount: 0,
      providerReference: expect.stringMatching(/^sandbox_/),
    });
    expect(await operationsOf(orderId)).toEqual([]);
  });

  it('is PENDING while the processor has not confirmed', async () => {
    const { order } = await placeOrder({ card: 'tok_requires_action' });
    expect(order).toMatchObject({ status: 'PENDING_PAYMENT', payment: summary('PENDING', 1784) });
  });

  it("is visible to the order's owner", async () => {
    const { accountId } = await server.sessionFor('CUSTOMER');
    const owner = await server.tokenFor('CUSTOMER', { accountId });
    const { order } = await placeOrder({ as: owner });
    await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });

    const res = await server.gql(ORDER_QUERY, { id: order.id }, owner);
    expect(res.errors).toBeUndefined();
    expect(res.data.order).toMatchObject({ id: order.id, payment: summary('CAPTURED', 1784, 500) });
  });
});

describe('paymentCapture', () => {
  it('captures all that was authorized when no amount is given', async () => {
    const { order, orderId } = await placeOrder();

    const captured = await succeeded('paymentCapture', { orderId: order.id, idempotencyKey: newKey() });

    expect(captured).toMatchObject({ id: order.id, status: 'PAID', payment: summary('CAPTURED', 1784, 1784) });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', capturedAmount: 1784, refundedAmount: 0 });
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1784, accountId: staffId }]);
    // a capture does not move the order
    expect(await eventsOf(orderId)).toEqual([
      [null, 'PENDING_PAYMENT', null, null],
      ['PENDING_PAYMENT', 'PAID', 'payment authorized', null],
    ]);
  });

  it('captures part of the authorization', async () => {
    const { order, orderId } = await placeOrder();

    const captured = await succeeded('paymentCapture', {
      orderId: order.id,
      amount: '12.34',
      idempotencyKey: newKey(),
    });

    expect(captured.payment).toEqual(summary('CAPTURED', 1784, 1234));
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', amount: 1784, capturedAmount: 1234 });
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1234, accountId: staffId }]);
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
      userErrors: [invalid('amount', 'Capture between 0.01 and the authorized amount.')],
    });
    expect(await paymentState()).toEqual(before);
  });

  it('refuses a payment that is not AUTHORIZED (captured, pending), changing nothing', async () => {
    const { order } = await placeOrder();
    await succeeded('paymentCapture', { orderId: order.id, idempotencyKey: newKey() });
    const pending = await placeOrder({ card: 'tok_requires_action' });
    const before = await paymentState();

    expect(await operated('paymentCapture', { orderId: order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'A CAPTURED payment cannot be captured.')],
    });
    expect(await operated('paymentCapture', { orderId: pending.order.id, idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('orderId', 'A PENDING payment cannot be captured.')],
    });
    expect(await paymentState()).toEqual(before);
  });

  it('returns the same result for a replayed idempotency key and captures once', async () => {
    const { order, orderId } = await placeOrder();
    const input = { orderId: order.id, amount: '10.00', idempotencyKey: newKey() };

    const first = await operated('paymentCapture', input);
    const second = await operated('paymentCapture', input);

    expect(first.userErrors).toEqual([]);
    expect(first.order!.payment).toEqual(summary('CAPTURED', 1784, 1000));
    expect(second).toEqual(first);
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1000, accountId: staffId }]);
    expect(await server.prisma.paymentOperation.count({ where: { key: input.idempotencyKey } })).toBe(1);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', capturedAmount: 1000 });
  });

  it('returns the same result to concurrent requests with the same idempotency key', async () => {
    const { order, orderId } = await placeOrder();
    const input = { orderId: order.id, idempotencyKey: newKey() };

    const results = await Promise.all(Array.from({ length: 4 }, () => operated('paymentCapture', input)));

    for (const result of results) {
      expect(result).toEqual({
        order: expect.objectContaining({ payment: summary('CAPTURED', 1784, 1784) }),
        userErrors: [],
      });
    }
    expect(await operationsOf(orderId)).toEqual([{ kind: 'CAPTURE', amount: 1784, accountId: staffId }]);
  });

  it('answers CONFLICT for a key already used for another operation kind or another order', async () => {
    const { order } = await placeOrder();
    const other = await placeOrder();
    const idempotencyKey = newKey();
    await succeeded('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey });
    const before = await paymentState();

    const conflict = { order: null, userErrors: [CONFLICT_KEY] };
    expect(await operated('paymentVoid', { orderId: order.id, idempotencyKey })).toEqual(conflict);
    expect(await operated('paymentRefund', { orderId: order.id, amount: '1.00', idempotencyKey })).toEqual(conflict);
    expect(await operated('paymentCapture', { orderId: other.order.id, idempotencyKey })).toEqual(conflict);
    expect(await paymentState()).toEqual(before);
  });

  it.each([
    ['shorter than 8 characters', 'short12'],
    ['longer than 100 characters', 'k'.repeat(101)],
  ])('rejects an idempotency key %s with BAD_USER_INPUT', async (_, idempotencyKey) => {
    const { order } = await placeOrder();
    const before = await paymentState();

    for (const name of Object.keys(OPERATIONS) as Operation[]) {
      const res = await operate(name, inputFor(name, order.id, idempotencyKey));
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.message).toBe('The idempotency key must be 8 to 100 characters.');
      expect(res.data).toBeNull();
    }
    expect(await paymentState()).toEqual(before);
  });
});

describe('paymentVoid', () => {
  it('releases an AUTHORIZED payment: VOIDED', async () => {
    const { order, orderId } = await placeOrder();

    const voided = await succeeded('paymentVoid', { orderId: order.id, idempotencyKey: newKey() });

    expect(voided.payment).toEqual(summary('VOIDED', 1784));
    expect(await paymentOf(orderId)).toMatchObject({ status: 'VOIDED', capturedAmount: 0, refundedAmount: 0 });
    expect(await operationsOf(orderId)).toEqual([{ kind: 'VOID', amount: 1784, accountId: staffId }]);
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
  /** A PAID order whose whole total (1784) is captured. */
  async function capturedOrder() {
    const placed = await placeOrder();
    await succeeded('paymentCapture', { orderId: placed.order.id, idempotencyKey: newKey() });
    return placed;
  }

  it('refunds part (PARTIALLY_REFUNDED), then the rest (REFUNDED), each with an event', async () => {
    const { order, orderId } = await capturedOrder();

    const partly = await succeeded('paymentRefund', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });

    expect(partly).toMatchObject({ status: 'PARTIALLY_REFUNDED', payment: summary('CAPTURED', 1784, 1784, 500) });
    expect(partly.events.at(-1)).toEqual({ from: 'PAID', to: 'PARTIALLY_REFUNDED', note: 'refunded 500' });
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1784, refundedAmount: 500 });

    const fully = await succeeded('paymentRefund', { orderId: order.id, amount: '12.84', idempotencyKey: newKey() });

    expect(fully).toMatchObject({ status: 'REFUNDED', payment: summary('CAPTURED', 1784, 1784, 1784) });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', capturedAmount: 1784, refundedAmount: 1784 });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'REFUNDED',
    });
    expect(await eventsOf(orderId)).toEqual([
      [null, 'PENDING_PAYMENT', null, null],
      ['PENDING_PAYMENT', 'PAID', 'payment authorized', null],
      ['PAID', 'PARTIALLY_REFUNDED', 'refunded 500', staffId],
      ['PARTIALLY_REFUNDED', 'REFUNDED', 'refunded 1284', staffId],
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
      userErrors: [invalid('amount', 'At most 1000 minor units can still be refunded.')],
    });
    const refunded = await succeeded('paymentRefund', { orderId: order.id, amount: '10.00', idempotencyKey: newKey() });
    expect(refunded).toMatchObject({ status: 'REFUNDED', payment: summary('CAPTURED', 1784, 1000, 1000) });
    expect(await paymentOf(orderId)).toMatchObject({ capturedAmount: 1000, refundedAmount: 1000 });
  });

  it('refuses more than captured minus refunded, changing nothing', async () => {
    const { order } = await capturedOrder();
    await succeeded('paymentRefund', { orderId: order.id, amount: '5.00', idempotencyKey: newKey() });
    const before = await paymentState();

    for (const amount of ['12.85', '17.84', '100.00']) {
      expect(await operated('paymentRefund', { orderId: order.id, amount, idempotencyKey: newKey() })).toEqual({
        order: null,
        userErrors: [invalid('amount', 'At most 1284 minor units can still be refunded.')],
      });
    }
    expect(await paymentState()).toEqual(before);
    expect(await readOrder(order.id)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      payment: summary('CAPTURED', 1784, 1784, 500),
    });
  });

  it('refuses a zero amount, a negative one and a payment that was never captured', async () => {
    const { order } = await capturedOrder();
    const uncaptured = await placeOrder();
    const before = await paymentState();

    expect(await operated('paymentRefund', { orderId: order.id, amount: '0.00', idempotencyKey: newKey() })).toEqual({
      order: null,
      userErrors: [invalid('amount', 'At most 1784 minor units can still be refunded.')],
    });
    const negative = await operate('paymentRefund', { orderId: order.id, amount: '-1.00', idempotencyKey: newKey() });
    expect(codes(negative)).toEqual(['BAD_USER_INPUT']);
    expect(
      await operated('paymentRefund', { orderId: uncaptured.order.id, amount: '1.00', idempotencyKey: newKey() }),
    ).toEqual({ order: null, userErrors: [invalid('orderId', 'Only a captured payment can be refunded.')] });
    expect(await paymentState()).toEqual(before);
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
      status: 'REFUNDED',
      payment: summary('CAPTURED', 1784, 1000, 1000),
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

    for (const name of Object.keys(OPERATIONS) as Operation[]) {
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
    expect(await readOrder(order.id, owner)).toMatchObject({ payment: summary('AUTHORIZED', 1784) });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The webhook endpoint

const webhookUrl = (provider = 'sandbox') => new URL(`/webhooks/payments/${provider}`, server.url);

interface Delivery {
  body: string;
  signature?: string;
  provider?: string;
}

async function deliver({ body, signature = signWebhook(TEST_WEBHOOK_SECRET, body), provider }: Delivery) {
  const response = await fetch(webhookUrl(provider), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'agora-signature': signature },
    body,
  });
  return { status: response.status, body: await response.json() };
}

const eventBody = (type: string, reference: string, amount: number) =>
  JSON.stringify({ id: `evt_${randomUUID()}`, type, reference, amount });

/** A PENDING_PAYMENT order of 3 units (10 on hand, 3 reserved) and its payment's processor reference. */
async function pendingOrder() {
  const placed = await placeOrder({ card: 'tok_requires_action', quantity: 3 });
  expect(placed.order.status).toBe('PENDING_PAYMENT');
  expect(await stockOf(placed.variant)).toEqual({ stockOnHand: 10, stockReserved: 3 });
  const { providerReference } = await paymentOf(placed.orderId);
  expect(providerReference).toMatch(/^sandbox_/);
  return { ...placed, reference: providerReference! };
}

describe('POST /webhooks/payments/:provider', () => {
  it('payment.authorized pays a pending order and sells its stock, once', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();
    const body = eventBody('payment.authorized', reference, total);
    const delivery = { body, signature: signWebhook(TEST_WEBHOOK_SECRET, body) };

    expect(await deliver(delivery)).toEqual({ status: 200, body: { received: true, duplicate: false } });

    expect(await readOrder(order.id)).toMatchObject({ status: 'PAID', payment: summary('AUTHORIZED', total) });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'PAID',
      reservedUntil: null,
    });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'AUTHORIZED', providerReference: reference });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 7, stockReserved: 0 });
    const ledger = await server.prisma.inventoryChange.findMany({ where: { variantId: variant.id } });
    expect(ledger.map(({ reason, before, after }) => ({ reason, before, after }))).toEqual([
      { reason: `order #${order.number}`, before: 10, after: 7 },
    ]);
    expect(await eventsOf(orderId)).toEqual([
      [null, 'PENDING_PAYMENT', null, null],
      ['PENDING_PAYMENT', 'PAID', 'payment confirmed', null],
    ]);
    expect(await server.prisma.paymentWebhookEvent.count({ where: { eventId: JSON.parse(body).id } })).toBe(1);

    // the same delivery again is acknowledged and ignored
    const before = await paymentState();
    expect(await deliver(delivery)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await paymentState()).toEqual(before);
  });

  it('payment.failed cancels a pending order and releases its stock', async () => {
    const { order, orderId, variant, reference, total } = await pendingOrder();

    const res = await deliver({ body: eventBody('payment.failed', reference, total) });

    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'CANCELLED',
      reservedUntil: null,
    });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'FAILED', failureCode: 'async_failure' });
    expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 0 });
    expect(await server.prisma.inventoryChange.count({ where: { variantId: variant.id } })).toBe(0);
    expect(await eventsOf(orderId)).toEqual([
      [null, 'PENDING_PAYMENT', null, null],
      ['PENDING_PAYMENT', 'CANCELLED', 'payment failed', null],
    ]);
    // a failed payment is no current payment
    expect(await readOrder(order.id)).toMatchObject({ status: 'CANCELLED', payment: null });
  });

  describe('rejected deliveries change nothing', () => {
    const stale = (body: string) => signWebhook(TEST_WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000) - 400);
    const cases: [string, (reference: string) => Delivery, number, unknown][] = [
      [
        'a signature made with another secret',
        (reference) => {
          const body = eventBody('payment.authorized', reference, 5353);
          return { body, signature: signWebhook('another-secret-that-is-long-enough-too', body) };
        },
        400,
        { error: 'invalid webhook' },
      ],
      [
        'a signature over another body',
        (reference) => ({
          body: eventBody('payment.authorized', reference, 5353),
          signature: signWebhook(TEST_WEBHOOK_SECRET, eventBody('payment.authorized', reference, 5353)),
        }),
        400,
        { error: 'invalid webhook' },
      ],
      [
        'no signature',
        (reference) => ({ body: eventBody('payment.authorized', reference, 5353), signature: '' }),
        400,
        { error: 'invalid webhook' },
      ],
      [
        'a signature older than 5 minutes',
        (reference) => {
          const body = eventBody('payment.authorized', reference, 5353);
          return { body, signature: stale(body) };
        },
        400,
        { error: 'invalid webhook' },
      ],
      [
        'a signed body that is not a payment event',
        (reference) => ({ body: eventBody('charge.succeeded', reference, 5353) }),
        400,
        { error: 'invalid webhook' },
      ],
      [
        'a signed event without an amount',
        (reference) => ({ body: JSON.stringify({ id: `evt_${randomUUID()}`, type: 'payment.authorized', reference }) }),
        400,
        { error: 'invalid webhook' },
      ],
      ['a signed body that is not JSON', () => ({ body: 'payment.authorized' }), 400, { error: 'invalid webhook' }],
      [
        'an unknown provider',
        (reference) => ({ body: eventBody('payment.authorized', reference, 5353), provider: 'stripe' }),
        404,
        { error: 'unknown provider' },
      ],
    ];

    it.each(cases)('%s', async (_, make, status, body) => {
      const { order, variant, reference } = await pendingOrder();
      const before = await paymentState();

      expect(await deliver(make(reference))).toEqual({ status, body });

      expect(await paymentState()).toEqual(before);
      expect(await readOrder(order.id)).toMatchObject({ status: 'PENDING_PAYMENT', payment: { status: 'PENDING' } });
      expect(await stockOf(variant)).toEqual({ stockOnHand: 10, stockReserved: 3 });
    });
  });
});
