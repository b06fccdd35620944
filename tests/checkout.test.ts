// Checkout end to end over HTTP: checkoutComplete with every sandbox outcome (approved, declined, transient failure,
// pending), the checks before anything is reserved, idempotency keys, and who may check out. Every result is checked
// in the database too: orders (placed and abandoned), payments, the sandbox processor's charges, stock on hand and
// reserved, the inventory ledger and the cart. Reading, listing and moving placed orders: orders.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import {
  AUTHORIZED_EVENTS,
  CHECKOUT,
  commerce,
  dbId,
  MONEY,
  newKey,
  ORDER_QUERY,
  orderEvent,
  outcome,
  USER_ERRORS,
  type Input,
  type Money,
  type OrderView,
  type UserError,
  type Variant,
} from './support/commerce.js';
import { BERLIN } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let shop: ReturnType<typeof commerce>;
let staff: string;
let staffId: string;
/** The Standard shipping method's global ID (4.99, ships to DE). */
let standard: string;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  await seedStoreSettings(server.prisma);
  staffId = (await server.sessionFor('STAFF')).accountId;
  staff = await server.tokenFor('STAFF', { accountId: staffId });
  const method = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
  standard = toGlobalId('ShippingMethod', method.id);
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// Plumbing

interface Payload {
  order: OrderView | null;
  userErrors: UserError[];
}

const usd = (amount: string): Money => ({ amount, currencyCode: 'USD' });
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const checkoutKey = () => newKey('checkout');

interface CheckoutOptions {
  /** The sandbox test token; tok_visa approves. */
  card?: string;
  key?: string;
  provider?: string;
  /** The bearer token of the caller; a guest when left out. */
  as?: string;
}

function checkout(
  cartId: string,
  { card = 'tok_visa', key = checkoutKey(), provider = 'sandbox', as }: CheckoutOptions = {},
) {
  return server.gql(CHECKOUT, { input: { cartId, payment: { provider, token: card }, idempotencyKey: key } }, as);
}

/** The payload of a checkout that must have answered without GraphQL errors. */
async function complete(cartId: string, options?: CheckoutOptions): Promise<Payload> {
  const res = await checkout(cartId, options);
  expect(res.errors).toBeUndefined();
  return res.data.checkoutComplete;
}

/** The order of a checkout that must have succeeded. */
async function placed(cartId: string, options?: CheckoutOptions): Promise<OrderView> {
  const payload = await complete(cartId, options);
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: variants (shop.variant, or through productCreate), carts built through the cart mutations, customers

/** A product made by staff through productCreate, its variant with `stock` units on hand. */
async function createProduct(title: string, variant: { sku: string; title: string; price: string; stock: number }) {
  const res = await server.gql(
    `mutation ($input: ProductCreateInput!) {
      productCreate(input: $input) { product { title variants { id sku title } } ${USER_ERRORS} } }`,
    {
      input: {
        title,
        variants: [{ sku: variant.sku, title: variant.title, price: variant.price, inventoryQuantity: variant.stock }],
      },
    },
    staff,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data.productCreate.userErrors).toEqual([]);
  const created = res.data.productCreate.product.variants[0];
  return {
    id: dbId(created.id, 'ProductVariant'),
    gid: created.id,
    sku: created.sku,
    productTitle: title,
    variantTitle: created.title,
  } satisfies Variant;
}

const storedBerlin = { ...BERLIN, company: null, line2: null, province: null, phone: null };

interface CartSpec {
  lines?: [Variant, number][];
  /** The receipt email; a unique one by default, none with null (a customer's cart then uses the account's). */
  email?: string | null;
  address?: boolean;
  shipping?: boolean;
  /** The customer whose cart it is; a guest cart when left out. */
  as?: string;
}
interface TestCart {
  id: string;
  email: string | null;
  cost: Record<'subtotal' | 'shipping' | 'tax' | 'total', Money>;
}

/** A cart mutation that must succeed; the cart with its cost (which shop.cartMutation does not read). */
async function cartMutation(name: string, input: Input, token?: string) {
  const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
  const res = await server.gql(
    `mutation ($input: ${inputType}!) { ${name}(input: $input) {
      cart { id buyerIdentity { email } cost { subtotal { ${MONEY} } shipping { ${MONEY} } tax { ${MONEY} } total { ${MONEY} } } }
      ${USER_ERRORS} } }`,
    { input },
    token,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data[name].userErrors).toEqual([]);
  return res.data[name].cart;
}

/** A cart through cartCreate, cartBuyerIdentityUpdate (email, Berlin) and cartShippingMethodSelect (Standard), each
 * step optional, unlike shop.cart. */
async function makeCart({
  lines = [],
  email = `buyer-${randomUUID()}@example.test`,
  address = true,
  shipping = true,
  as,
}: CartSpec = {}): Promise<TestCart> {
  let cart = await cartMutation(
    'cartCreate',
    { lines: lines.map(([variant, quantity]) => ({ variantId: variant.gid, quantity })), email },
    as,
  );
  if (address) cart = await cartMutation('cartBuyerIdentityUpdate', { cartId: cart.id, shippingAddress: BERLIN }, as);
  if (shipping)
    cart = await cartMutation('cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: standard }, as);
  return { id: cart.id, email: cart.buyerIdentity.email, cost: cart.cost };
}

// Database reads

const stock = (stockOnHand: number, stockReserved = 0) => ({ stockOnHand, stockReserved });

/** A variant's ledger entries, oldest first by their time (not their IDs: see 'inventoryHistory' below). */
const ledgerOf = async (variant: Variant) =>
  (
    await server.prisma.inventoryChange.findMany({
      where: { variantId: variant.id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    })
  ).map(({ reason, before, after, accountId }) => ({ reason, before, after, accountId }));

/** Every order row with this email (placed or abandoned), oldest first, with its payments. */
const ordersOf = (email: string) =>
  server.prisma.order.findMany({ where: { email }, orderBy: { id: 'asc' }, include: { payments: true } });

/** An order row's events as [kind, from, to, note], oldest first. */
const storedEvents = async (orderId: string) =>
  (await server.prisma.orderEvent.findMany({ where: { orderId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(
    (e) => [e.kind, e.fromStatus, e.toStatus, e.note],
  );

/** The sandbox processor's charges under a checkout's key (its payment's processor key is `checkout:<key>`). */
const chargesOf = (key: string) =>
  server.prisma.sandboxCharge.findMany({ where: { idempotencyKey: `checkout:${key}` } });

/** Every row checkout could write, to show that a refused call wrote nothing. */
const shopState = async () => ({
  variants: await server.prisma.productVariant.findMany({ orderBy: { id: 'asc' } }),
  orders: await server.prisma.order.findMany({ orderBy: { id: 'asc' }, include: { lines: true, events: true } }),
  payments: await server.prisma.payment.findMany({ orderBy: { id: 'asc' } }),
  ledger: await server.prisma.inventoryChange.findMany({ orderBy: { id: 'asc' } }),
  carts: await server.prisma.cart.findMany({ orderBy: { id: 'asc' }, include: { lines: true } }),
  attempts: await server.prisma.checkoutAttempt.findMany({ orderBy: { key: 'asc' } }),
  charges: await server.prisma.sandboxCharge.findMany({ orderBy: { idempotencyKey: 'asc' } }),
});

const event = orderEvent;

const cartExists = async (cart: TestCart) =>
  (await server.prisma.cart.count({ where: { id: dbId(cart.id, 'Cart') } })) === 1;

// ---------------------------------------------------------------------------------------------------------------

describe('checkoutComplete with an approved card', () => {
  it('turns the cart into an OPEN, AUTHORIZED order: totals, lines, events, stock, ledger, payment, and the cart is gone', async () => {
    // 2 × 19.99 + 5.53 = 45.51; + 4.99 shipping = 50.50; 19 % of it is 9.595 → 9.60 half up; total 60.10
    const mug = await createProduct('Enamel Mug', {
      sku: `MUG-${randomUUID()}`,
      title: 'Blue',
      price: '19.99',
      stock: 7,
    });
    const pen = await createProduct('Fountain Pen', {
      sku: `PEN-${randomUUID()}`,
      title: 'Fine',
      price: '5.53',
      stock: 3,
    });
    const cart = await makeCart({
      lines: [
        [mug, 2],
        [pen, 1],
      ],
    });
    expect(cart.cost).toEqual({
      subtotal: usd('45.51'),
      shipping: usd('4.99'),
      tax: usd('9.60'),
      total: usd('60.10'),
    });
    const key = checkoutKey();

    const order = await placed(cart.id, { key });

    expect(order).toEqual({
      id: expect.any(String),
      number: expect.any(Number),
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      fulfillmentStatus: 'UNFULFILLED',
      email: cart.email,
      lines: [
        {
          id: expect.any(String),
          sku: mug.sku,
          productTitle: 'Enamel Mug',
          variantTitle: 'Blue',
          unitPrice: usd('19.99'),
          quantity: 2,
          subtotal: usd('39.98'),
          fulfilledQuantity: 0,
          refundedQuantity: 0,
          fulfillableQuantity: 2,
        },
        {
          id: expect.any(String),
          sku: pen.sku,
          productTitle: 'Fountain Pen',
          variantTitle: 'Fine',
          unitPrice: usd('5.53'),
          quantity: 1,
          subtotal: usd('5.53'),
          fulfilledQuantity: 0,
          refundedQuantity: 0,
          fulfillableQuantity: 1,
        },
      ],
      ...cart.cost,
      shippingAddress: storedBerlin,
      shippingMethod: 'Standard',
      fulfillments: [],
      payment: { status: 'AUTHORIZED', amount: usd('60.10'), captured: usd('0.00'), refunded: usd('0.00') },
      events: AUTHORIZED_EVENTS,
      createdAt: expect.stringMatching(ISO_DATE),
    });
    expect(order.number).toBeGreaterThanOrEqual(1001);

    // the stock is sold: on hand down, nothing left reserved, and the ledger says which order took it
    expect(await shop.stockOf(mug)).toEqual(stock(5));
    expect(await shop.stockOf(pen)).toEqual(stock(2));
    expect(await ledgerOf(mug)).toEqual([
      { reason: 'initial stock', before: 0, after: 7, accountId: staffId },
      { reason: `order #${order.number}`, before: 7, after: 5, accountId: null },
    ]);
    expect(await ledgerOf(pen)).toEqual([
      { reason: 'initial stock', before: 0, after: 3, accountId: staffId },
      { reason: `order #${order.number}`, before: 3, after: 2, accountId: null },
    ]);

    const [stored, ...others] = await ordersOf(cart.email!);
    expect(others).toEqual([]);
    expect(stored).toMatchObject({
      id: dbId(order.id, 'Order'),
      number: order.number,
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      fulfillmentStatus: 'UNFULFILLED',
      accountId: null,
      currencyCode: 'USD',
      subtotalAmount: 4551,
      shippingAmount: 499,
      taxAmount: 960,
      totalAmount: 6010,
      reservedUntil: null,
      cartId: dbId(cart.id, 'Cart'),
    });
    expect(stored!.payments).toEqual([
      expect.objectContaining({
        provider: 'sandbox',
        status: 'AUTHORIZED',
        amount: 6010,
        capturedAmount: 0,
        refundedAmount: 0,
        failureCode: null,
        idempotencyKey: `checkout:${key}`,
        providerReference: expect.stringMatching(/^sandbox_/),
      }),
    ]);
    // one authorization at the processor, under the payment's key
    expect(await chargesOf(key)).toEqual([
      expect.objectContaining({
        status: 'authorized',
        amount: 6010,
        reference: stored!.payments[0]!.providerReference,
        captured: 0,
        voided: false,
      }),
    ]);
    expect(await cartExists(cart)).toBe(false);
    const read = await server.gql(`query ($id: ID!) { cart(id: $id) { id } }`, { id: cart.id });
    expect(outcome(read)).toEqual({ data: { cart: null }, codes: undefined });
  });

  it('gives each order the next number', async () => {
    const mug = await shop.variant();
    const first = await shop.authorizedOrder([[mug, 1]]);
    const second = await shop.authorizedOrder([[mug, 1]]);
    expect(second.number).toBe(first.number + 1);
  });

  it('copies the lines in the cart’s order, a line topped up later keeping its place', async () => {
    const [mug, pen, cap] = [await shop.variant(), await shop.variant(), await shop.variant()];
    const cart = await makeCart({
      lines: [
        [cap, 1],
        [pen, 1],
        [mug, 1],
      ],
    });
    await cartMutation('cartLinesAdd', { cartId: cart.id, lines: [{ variantId: cap.gid, quantity: 2 }] });
    const order = await placed(cart.id);
    expect(order.lines.map((line) => [line.sku, line.quantity, line.fulfillableQuantity])).toEqual([
      [cap.sku, 3, 3],
      [pen.sku, 1, 1],
      [mug.sku, 1, 1],
    ]);
  });

  // Regression: ledger rows written by checkout have random IDs, and inventoryHistory once ordered by ID.
  it('shows the sale in the variant’s inventoryHistory in time order, newest first', async () => {
    const cap = await createProduct('Wool Cap', {
      sku: `CAP-${randomUUID()}`,
      title: 'Grey',
      price: '12.00',
      stock: 10,
    });
    const adjust = async (delta: number, reason: string) => {
      const res = await server.gql(
        `mutation ($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { ${USER_ERRORS} } }`,
        { input: { variantId: cap.gid, delta, reason } },
        staff,
      );
      expect(res.data.inventoryAdjust.userErrors).toEqual([]);
    };
    const first = await shop.authorizedOrder([[cap, 2]]);
    await adjust(5, 'delivery');
    const second = await shop.authorizedOrder([[cap, 1]]);
    await adjust(-1, 'damaged');

    const res = await server.gql(
      `query ($id: ID!) { node(id: $id) { ... on ProductVariant {
        inventoryHistory(first: 10) { nodes { reason before after } } } } }`,
      { id: cap.gid },
      staff,
    );
    expect(res.data.node.inventoryHistory.nodes).toEqual([
      { reason: 'damaged', before: 12, after: 11 },
      { reason: `order #${second.number}`, before: 13, after: 12 },
      { reason: 'delivery', before: 8, after: 13 },
      { reason: `order #${first.number}`, before: 10, after: 8 },
      { reason: 'initial stock', before: 0, after: 10 },
    ]);
  });

  it('uses the account’s email for a customer’s cart without one, and records the account on the order', async () => {
    const shopper = await shop.customer();
    const mug = await shop.variant({ price: 1000 });
    const cart = await makeCart({ lines: [[mug, 1]], email: null, as: shopper.token });
    expect(cart.email).toBe(shopper.email);
    const order = await placed(cart.id, { as: shopper.token });
    expect(order).toMatchObject({ status: 'OPEN', financialStatus: 'AUTHORIZED', email: shopper.email });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: dbId(order.id, 'Order') } })).toMatchObject({
      accountId: shopper.accountId,
    });
  });
});

describe('checkoutComplete of a cart that costs nothing', () => {
  // Regression: a free order once tried to create a payment of 0, which the database refuses.
  it('places the order OPEN and PAID without a payment or a processor call', async () => {
    const sample = await shop.variant({ price: 0, stock: 5 });
    const cart = await makeCart({ lines: [[sample, 1]], shipping: false, address: false });
    const chicago = { ...BERLIN, line1: '233 S Wacker Dr', city: 'Chicago', province: 'IL', postalCode: '60606' };
    await cartMutation('cartBuyerIdentityUpdate', {
      cartId: cart.id,
      shippingAddress: { ...chicago, countryCode: 'US' },
    });
    const pickup = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Free local pickup' } });
    const priced = await cartMutation('cartShippingMethodSelect', {
      cartId: cart.id,
      shippingMethodId: toGlobalId('ShippingMethod', pickup.id),
    });
    expect(priced.cost.total).toEqual(usd('0.00'));
    const key = checkoutKey();

    const order = await placed(cart.id, { key });

    expect(order).toMatchObject({
      status: 'OPEN',
      financialStatus: 'PAID',
      fulfillmentStatus: 'UNFULFILLED',
      total: usd('0.00'),
      payment: null,
      events: [
        event('STATUS', null, 'CHECKOUT'),
        event('STATUS', 'CHECKOUT', 'OPEN', 'payment authorized'),
        event('FINANCIAL', 'PENDING', 'PAID', 'payment authorized'),
      ],
    });
    expect(await shop.stockOf(sample)).toEqual(stock(4));
    expect(await server.prisma.payment.count({ where: { orderId: dbId(order.id, 'Order') } })).toBe(0);
    expect(await chargesOf(key)).toEqual([]);
    expect(await cartExists(cart)).toBe(false);
  });
});

describe('checkoutComplete with a declined card', () => {
  it.each([
    { card: 'tok_card_declined', code: 'card_declined', message: 'The card was declined.' },
    { card: 'tok_insufficient_funds', code: 'insufficient_funds', message: 'The card has insufficient funds.' },
  ])(
    '$card: PAYMENT_DECLINED, the stock as before, an ABANDONED row for audit, and the cart still usable',
    async (decline) => {
      const mug = await shop.variant({ price: 1500, stock: 4 });
      const pen = await shop.variant({ price: 250, stock: 9 });
      // someone else's pending checkout holds 1 pen: it must stay reserved
      await server.prisma.productVariant.update({ where: { id: pen.id }, data: { stockReserved: 1 } });
      const cart = await makeCart({
        lines: [
          [mug, 2],
          [pen, 3],
        ],
      });

      const payload = await complete(cart.id, { card: decline.card });

      expect(payload).toEqual({
        order: null,
        userErrors: [{ field: ['input', 'payment', 'token'], code: 'PAYMENT_DECLINED', message: decline.message }],
      });
      expect(await shop.stockOf(mug)).toEqual(stock(4));
      expect(await shop.stockOf(pen)).toEqual(stock(9, 1));
      expect(await ledgerOf(mug)).toEqual([]);
      const [abandoned, ...others] = await ordersOf(cart.email!);
      expect(others).toEqual([]);
      expect(abandoned).toMatchObject({
        status: 'ABANDONED',
        financialStatus: 'VOIDED',
        number: null,
        cartId: null,
        reservedUntil: null,
        totalAmount: 5056,
      });
      expect(abandoned!.payments).toEqual([
        expect.objectContaining({ status: 'DECLINED', failureCode: decline.code, amount: 5056 }),
      ]);
      expect(await storedEvents(abandoned!.id)).toEqual([
        ['STATUS', null, 'CHECKOUT', null],
        ['STATUS', 'CHECKOUT', 'ABANDONED', `payment declined: ${decline.code}`],
        ['FINANCIAL', 'PENDING', 'VOIDED', `payment declined: ${decline.code}`],
      ]);

      // the cart is untouched and can be paid with another card under a new key
      expect(await cartExists(cart)).toBe(true);
      const order = await placed(cart.id, { card: 'tok_visa' });
      expect(order).toMatchObject({
        status: 'OPEN',
        financialStatus: 'AUTHORIZED',
        total: usd('50.56'),
        events: AUTHORIZED_EVENTS,
      });
      expect(await shop.stockOf(mug)).toEqual(stock(2));
      expect(await shop.stockOf(pen)).toEqual(stock(6, 1));
      const orders = await ordersOf(cart.email!);
      expect(orders.map((o) => [o.status, o.payments.map((p) => p.status)])).toEqual([
        ['ABANDONED', ['DECLINED']],
        ['OPEN', ['AUTHORIZED']],
      ]);
    },
  );

  it('leaves no visible order and uses no order number', async () => {
    const shopper = await shop.customer();
    const mug = await shop.variant({ stock: 5 });
    const before = await shop.authorizedOrder([[mug, 1]], shopper.token);

    const cart = await makeCart({ lines: [[mug, 1]], as: shopper.token });
    expect((await complete(cart.id, { card: 'tok_card_declined', as: shopper.token })).userErrors).toEqual([
      expect.objectContaining({ code: 'PAYMENT_DECLINED' }),
    ]);
    const [abandoned] = await server.prisma.order.findMany({
      where: { accountId: shopper.accountId, status: 'ABANDONED' },
    });
    expect(abandoned).toMatchObject({ number: null });
    const hidden = toGlobalId('Order', abandoned!.id);

    // no lookup finds it, not even for its customer or staff
    for (const token of [shopper.token, staff]) {
      expect(outcome(await server.gql(ORDER_QUERY, { id: hidden }, token))).toEqual({
        data: { order: null },
        codes: undefined,
      });
      expect(outcome(await server.gql('query ($id: ID!) { node(id: $id) { id } }', { id: hidden }, token))).toEqual({
        data: { node: null },
        codes: undefined,
      });
    }
    // no list shows it
    const viewer = await server.gql('{ viewer { orders(first: 20) { totalCount nodes { id } } } }', {}, shopper.token);
    expect(viewer.data.viewer.orders).toEqual({ totalCount: 1, nodes: [{ id: before.id }] });
    const listed = await server.gql(
      'query ($filter: OrderFilter) { orders(filter: $filter, first: 100) { totalCount nodes { id } } }',
      { filter: { customerId: toGlobalId('Account', shopper.accountId) } },
      staff,
    );
    expect(listed.data.orders).toEqual({ totalCount: 1, nodes: [{ id: before.id }] });
    const all = await server.gql('{ orders(first: 100) { nodes { id } } }', {}, staff);
    expect(all.data.orders.nodes).not.toContainEqual({ id: hidden });

    // the next order placed takes the number right after the last one
    const after = await shop.authorizedOrder([[mug, 1]], shopper.token);
    expect(after.number).toBe(before.number + 1);
    expect(await shop.stockOf(mug)).toEqual(stock(3));
  });
});

describe('checkoutComplete with a transient processor failure', () => {
  it('answers PAYMENT_FAILED with the stock as before; a retry with the same key is charged exactly once', async () => {
    const mug = await shop.variant({ price: 2000, stock: 5 });
    const cart = await makeCart({ lines: [[mug, 2]] });
    const key = checkoutKey();

    const failed = await complete(cart.id, { card: 'tok_transient_error', key });
    expect(failed).toEqual({
      order: null,
      userErrors: [
        {
          field: null,
          code: 'PAYMENT_FAILED',
          message: 'The payment could not be processed; nothing was charged. Please retry.',
        },
      ],
    });
    expect(await shop.stockOf(mug)).toEqual(stock(5));
    expect(await cartExists(cart)).toBe(true);
    expect(await chargesOf(key)).toEqual([]);

    const order = await placed(cart.id, { card: 'tok_transient_error', key });
    expect(order).toMatchObject({
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      total: usd('53.54'),
      events: AUTHORIZED_EVENTS,
    });
    expect(await shop.stockOf(mug)).toEqual(stock(3));

    const orders = await ordersOf(cart.email!);
    expect(orders.map((o) => [o.status, o.number, o.payments.map((p) => [p.status, p.failureCode])])).toEqual([
      ['ABANDONED', null, [['FAILED', 'transient_error']]],
      ['OPEN', order.number, [['AUTHORIZED', null]]],
    ]);
    expect(await chargesOf(key)).toHaveLength(1);
    // a later replay of the key returns that order, still without a second charge
    expect((await placed(cart.id, { card: 'tok_transient_error', key })).id).toBe(order.id);
    expect(await chargesOf(key)).toHaveLength(1);
    expect(await server.prisma.payment.count({ where: { order: { email: cart.email! } } })).toBe(2);
  });
});

describe('checkoutComplete with a payment that needs action', () => {
  it('places the order OPEN with its payment PENDING and its stock reserved', async () => {
    const mug = await shop.variant({ price: 1000, stock: 6 });
    const cart = await makeCart({ lines: [[mug, 4]] });

    const order = await placed(cart.id, { card: 'tok_requires_action' });

    expect(order).toMatchObject({
      number: expect.any(Number),
      status: 'OPEN',
      financialStatus: 'PENDING',
      fulfillmentStatus: 'UNFULFILLED',
      payment: { status: 'PENDING', captured: usd('0.00') },
      events: [event('STATUS', null, 'CHECKOUT'), event('STATUS', 'CHECKOUT', 'OPEN', 'waiting for the payment')],
    });
    expect(await shop.stockOf(mug)).toEqual(stock(6, 4));
    expect(await ledgerOf(mug)).toEqual([]);
    const [stored] = await ordersOf(cart.email!);
    expect(stored).toMatchObject({ status: 'OPEN', financialStatus: 'PENDING', reservedUntil: expect.any(Date) });
    expect(stored!.reservedUntil!.getTime()).toBeGreaterThan(Date.now());
    expect(stored!.payments).toEqual([
      expect.objectContaining({ status: 'PENDING', providerReference: expect.stringMatching(/^sandbox_/) }),
    ]);
    expect(await cartExists(cart)).toBe(false);
  });
});

describe('checkoutComplete refusals before anything is reserved', () => {
  const CART_ERRORS = {
    empty: { field: ['input', 'cartId'], code: 'INVALID', message: 'The cart is empty.' },
    email: { field: ['input', 'cartId'], code: 'BLANK', message: 'Set an email with cartBuyerIdentityUpdate first.' },
    address: {
      field: ['input', 'cartId'],
      code: 'BLANK',
      message: 'Set a shipping address with cartBuyerIdentityUpdate first.',
    },
    shipping: { field: ['input', 'cartId'], code: 'BLANK', message: 'Choose a shipping method first.' },
  };

  const cases: {
    name: string;
    cart: Omit<CartSpec, 'lines'> & { empty?: boolean };
    options?: CheckoutOptions;
    errors: UserError[];
  }[] = [
    { name: 'an empty cart', cart: { empty: true }, errors: [CART_ERRORS.empty] },
    { name: 'a cart without an email', cart: { email: null }, errors: [CART_ERRORS.email] },
    { name: 'a cart without an address', cart: { address: false }, errors: [CART_ERRORS.address] },
    { name: 'a cart without a shipping method', cart: { shipping: false }, errors: [CART_ERRORS.shipping] },
    {
      name: 'a cart missing everything',
      cart: { empty: true, email: null, address: false, shipping: false },
      errors: [CART_ERRORS.empty, CART_ERRORS.email, CART_ERRORS.address, CART_ERRORS.shipping],
    },
    {
      name: 'an unknown payment provider',
      cart: {},
      options: { provider: 'paypal' },
      errors: [
        { field: ['input', 'payment', 'provider'], code: 'INVALID', message: 'Unknown payment provider "paypal".' },
      ],
    },
    ...['short-7', 'x'.repeat(101)].map((key) => ({
      name: `an idempotency key of ${key.length} characters`,
      cart: {},
      options: { key },
      errors: [
        {
          field: ['input', 'idempotencyKey'],
          code: 'INVALID',
          message: 'The idempotency key must be 8 to 100 characters.',
        },
      ],
    })),
  ];

  it.each(cases)('refuses $name, writing nothing', async ({ cart: spec, options, errors }) => {
    const mug = await shop.variant({ stock: 5 });
    const cart = await makeCart({ ...spec, lines: spec.empty ? [] : [[mug, 2]] });
    const before = await shopState();

    expect(await complete(cart.id, options)).toEqual({ order: null, userErrors: errors });

    expect(await shopState()).toEqual(before);
    expect(await shop.stockOf(mug)).toEqual(stock(5));
  });

  it('frees the key of a refused cart: the corrected cart checks out with it', async () => {
    const mug = await shop.variant({ stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]], shipping: false });
    const key = checkoutKey();
    expect((await complete(cart.id, { key })).userErrors).toEqual([CART_ERRORS.shipping]);
    await cartMutation('cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: standard });
    expect(await placed(cart.id, { key })).toMatchObject({ status: 'OPEN', financialStatus: 'AUTHORIZED' });
  });

  it('answers NOT_FOUND for a cart that does not exist', async () => {
    const before = await shopState();
    expect(await complete(toGlobalId('Cart', randomUUID()))).toEqual({
      order: null,
      userErrors: [{ field: ['input', 'cartId'], code: 'NOT_FOUND', message: 'No cart with this ID.' }],
    });
    expect(await shopState()).toEqual(before);
  });

  it('refuses a shipping method that does not serve the address’s country', async () => {
    const mug = await shop.variant({ stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    // the API drops a method that does not serve a new address, so only a changed method row can get here
    const { countries } = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
    await server.prisma.shippingMethod.update({ where: { name: 'Standard' }, data: { countries: ['US'] } });
    try {
      const before = await shopState();
      expect(await complete(cart.id)).toEqual({
        order: null,
        userErrors: [{ field: ['input', 'cartId'], code: 'INVALID', message: 'Standard does not ship to DE.' }],
      });
      expect(await shopState()).toEqual(before);
    } finally {
      await server.prisma.shippingMethod.update({ where: { name: 'Standard' }, data: { countries } });
    }
  });

  it('refuses with INSUFFICIENT_STOCK naming the SKU when stock fell after the line was added, reserving no line', async () => {
    const [mug, pen, cap] = [
      await shop.variant({ stock: 10 }),
      await shop.variant({ stock: 10 }),
      await shop.variant({ stock: 10 }),
    ];
    const cart = await makeCart({
      lines: [
        [mug, 2],
        [pen, 3],
        [cap, 4],
      ],
    });
    // after the lines were added, staff counts the pens again (leaving 2) and someone reserves 1 of them
    const count = await server.gql(
      `mutation ($input: InventorySetInput!) { inventorySet(input: $input) { ${USER_ERRORS} } }`,
      { input: { variantId: pen.gid, quantity: 2, compareQuantity: 10, reason: 'recount' } },
      staff,
    );
    expect(count.data.inventorySet.userErrors).toEqual([]);
    await server.prisma.productVariant.update({ where: { id: pen.id }, data: { stockReserved: 1 } });
    const before = await shopState();

    expect(await complete(cart.id)).toEqual({
      order: null,
      userErrors: [
        { field: ['input', 'cartId'], code: 'INSUFFICIENT_STOCK', message: `${pen.sku}: only 1 available.` },
      ],
    });

    // all or nothing: the mug and the cap, which had enough, are not reserved either
    expect(await shopState()).toEqual(before);
    expect([await shop.stockOf(mug), await shop.stockOf(pen), await shop.stockOf(cap)]).toEqual([
      stock(10),
      stock(2, 1),
      stock(10),
    ]);
  });

  it('names every line that is short', async () => {
    const [mug, pen] = [await shop.variant({ stock: 5 }), await shop.variant({ stock: 5 })];
    const cart = await makeCart({
      lines: [
        [mug, 3],
        [pen, 3],
      ],
    });
    await server.prisma.productVariant.updateMany({
      where: { id: { in: [mug.id, pen.id] } },
      data: { stockOnHand: 0 },
    });
    const before = await shopState();

    const payload = await complete(cart.id);

    expect(payload.order).toBeNull();
    expect(payload.userErrors).toHaveLength(2);
    expect(payload.userErrors).toEqual(
      expect.arrayContaining(
        [mug, pen].map((v) => ({
          field: ['input', 'cartId'],
          code: 'INSUFFICIENT_STOCK',
          message: `${v.sku}: only 0 available.`,
        })),
      ),
    );
    expect(await shopState()).toEqual(before);
  });
});

describe('idempotency keys', () => {
  const KEY_REUSED: UserError = {
    field: ['input', 'idempotencyKey'],
    code: 'IDEMPOTENCY_KEY_REUSED',
    message: 'This idempotency key was used for a different request; make a new key for a new request.',
  };

  it('replaying a successful key returns the same order: one order, one payment and one charge', async () => {
    const mug = await shop.variant({ price: 1200, stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = checkoutKey();

    const first = await placed(cart.id, { key });
    const replays = [await placed(cart.id, { key }), await placed(cart.id, { key })];

    expect(replays).toEqual([first, first]);
    const orders = await ordersOf(cart.email!);
    expect(orders.map((o) => [o.id, o.payments.map((p) => p.status)])).toEqual([
      [dbId(first.id, 'Order'), ['AUTHORIZED']],
    ]);
    expect(await chargesOf(key)).toHaveLength(1);
    expect(await shop.stockOf(mug)).toEqual(stock(4));
  });

  it('refuses the key of a placed order with another card with IDEMPOTENCY_KEY_REUSED, writing nothing', async () => {
    const mug = await shop.variant({ stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = checkoutKey();
    await placed(cart.id, { key });
    const before = await shopState();

    expect(await complete(cart.id, { key, card: 'tok_card_declined' })).toEqual({
      order: null,
      userErrors: [KEY_REUSED],
    });
    expect(await shopState()).toEqual(before);
  });

  it('refuses the key of one cart for another with IDEMPOTENCY_KEY_REUSED, touching neither', async () => {
    const mug = await shop.variant({ stock: 5 });
    const [used, other] = [await makeCart({ lines: [[mug, 1]] }), await makeCart({ lines: [[mug, 2]] })];
    const key = checkoutKey();
    await placed(used.id, { key });
    const before = await shopState();

    expect(await complete(other.id, { key })).toEqual({ order: null, userErrors: [KEY_REUSED] });
    expect(await shopState()).toEqual(before);
    expect(await shop.stockOf(mug)).toEqual(stock(4));
    expect(await cartExists(other)).toBe(true);
  });

  it('replays a declined result as the same decline without a second attempt; another card is IDEMPOTENCY_KEY_REUSED', async () => {
    const mug = await shop.variant({ stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = checkoutKey();

    const declined = await complete(cart.id, { key, card: 'tok_card_declined' });
    expect(declined).toEqual({
      order: null,
      userErrors: [
        { field: ['input', 'payment', 'token'], code: 'PAYMENT_DECLINED', message: 'The card was declined.' },
      ],
    });
    const before = await shopState();

    expect(await complete(cart.id, { key, card: 'tok_card_declined' })).toEqual(declined);
    expect(await complete(cart.id, { key, card: 'tok_visa' })).toEqual({ order: null, userErrors: [KEY_REUSED] });

    expect(await shopState()).toEqual(before);
    expect(await chargesOf(key)).toEqual([expect.objectContaining({ status: 'declined' })]);
    expect((await ordersOf(cart.email!)).map((o) => [o.status, o.number])).toEqual([['ABANDONED', null]]);
    expect(await shop.stockOf(mug)).toEqual(stock(5));
  });

  it('refuses the key of a declined checkout once its cart costs something else (another amount)', async () => {
    const mug = await shop.variant({ price: 1000, stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = checkoutKey();
    await complete(cart.id, { key, card: 'tok_card_declined' });
    await cartMutation('cartLinesAdd', { cartId: cart.id, lines: [{ variantId: mug.gid, quantity: 1 }] });
    const before = await shopState();

    expect(await complete(cart.id, { key, card: 'tok_card_declined' })).toEqual({
      order: null,
      userErrors: [KEY_REUSED],
    });
    expect(await shopState()).toEqual(before);
  });

  it('records the key with the order it produced', async () => {
    const mug = await shop.variant();
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = checkoutKey();
    const order = await placed(cart.id, { key });
    expect(await server.prisma.checkoutAttempt.findUniqueOrThrow({ where: { key } })).toMatchObject({
      cartId: dbId(cart.id, 'Cart'),
      orderId: dbId(order.id, 'Order'),
      amount: 1784, // 10.00 + 4.99 shipping = 14.99, and 19 % tax of it: 2.85
      userErrors: [],
      finishedAt: expect.any(Date),
    });
  });
});

describe('who may check out', () => {
  let owner: Awaited<ReturnType<typeof shop.customer>>;
  let stranger: Awaited<ReturnType<typeof shop.customer>>;
  let mug: Variant;

  beforeAll(async () => {
    [owner, stranger] = [await shop.customer(), await shop.customer()];
    mug = await shop.variant({ price: 800, stock: 100 });
  });

  it.each([
    { caller: 'another customer', token: () => stranger.token, code: 'FORBIDDEN' },
    { caller: 'an anonymous visitor', token: () => undefined, code: 'UNAUTHENTICATED' },
  ])('refuses the checkout of a customer’s cart to $caller with $code, writing nothing', async ({ token, code }) => {
    const cart = await makeCart({ lines: [[mug, 1]], as: owner.token });
    const before = await shopState();
    expect(outcome(await checkout(cart.id, { as: token() }))).toEqual({ data: null, codes: [code] });
    expect(await shopState()).toEqual(before);
  });

  it('lets the owner, and staff, check out the owner’s cart', async () => {
    const own = await makeCart({ lines: [[mug, 1]], as: owner.token });
    expect(await placed(own.id, { as: owner.token })).toMatchObject({ status: 'OPEN', financialStatus: 'AUTHORIZED' });
    const helped = await makeCart({ lines: [[mug, 1]], email: null, as: owner.token });
    expect((await placed(helped.id, { as: staff })).email).toBe(owner.email);
  });

  // Regression: a paid cart is deleted, so the cart rule lets the replay through; the order once came back to anyone.
  it.each([
    { caller: 'another customer', token: () => stranger.token, code: 'FORBIDDEN' },
    { caller: 'an anonymous visitor', token: () => undefined, code: 'UNAUTHENTICATED' },
  ])('does not replay a customer’s completed checkout to $caller ($code)', async ({ token, code }) => {
    const cart = await makeCart({ lines: [[mug, 1]], email: null, as: owner.token });
    const key = checkoutKey();
    const order = await placed(cart.id, { as: owner.token, key });
    expect((await placed(cart.id, { as: owner.token, key })).id).toBe(order.id);

    expect(outcome(await checkout(cart.id, { as: token(), key }))).toEqual({ data: null, codes: [code] });
  });
});
