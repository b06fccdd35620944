// Checkout and orders end to end over HTTP: checkoutComplete with every sandbox outcome (approved, declined,
// transient failure, pending), the checks before anything is reserved, idempotency keys, who may check out and read
// orders, and the order state machine with its stock effects. Every result is checked in the database too: orders,
// payments, stock on hand and reserved, the inventory ledger and the cart.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { databaseIdOf, toGlobalId } from '../src/graphql/globalId.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';
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
const ADDRESS = 'firstName lastName company line1 line2 city province postalCode countryCode phone';
const ORDER = `id number status email
  lines { sku productTitle variantTitle unitPrice { ${MONEY} } quantity subtotal { ${MONEY} } }
  subtotal { ${MONEY} } shipping { ${MONEY} } tax { ${MONEY} } total { ${MONEY} }
  shippingAddress { ${ADDRESS} } shippingMethod carrier trackingNumber
  events { from to note createdAt } createdAt`;
const USER_ERRORS = 'userErrors { field message code }';

const CHECKOUT = `mutation ($input: CheckoutCompleteInput!) {
  checkoutComplete(input: $input) { order { ${ORDER} } ${USER_ERRORS} } }`;

const TRANSITIONS = {
  orderFulfill: 'OrderFulfillInput',
  orderMarkShipped: 'OrderTransitionInput',
  orderMarkDelivered: 'OrderTransitionInput',
  orderCancel: 'OrderTransitionInput',
} as const;
type Transition = keyof typeof TRANSITIONS;

const ORDER_QUERY = `query ($id: ID!) { order(id: $id) { ${ORDER} } }`;
const NODE_QUERY = 'query ($id: ID!) { node(id: $id) { __typename id ... on Order { number status } } }';
const BY_NUMBER =
  'query ($number: Int!, $email: String!) { orderByNumber(number: $number, email: $email) { id number } }';
const VIEWER_ORDERS = 'query { viewer { orders(first: 20) { totalCount nodes { id number status } } } }';
const ORDERS = `query ($filter: OrderFilter, $first: Int) {
  orders(filter: $filter, first: $first) { totalCount nodes { id status } } }`;

type Input = Record<string, unknown>;
type Money = { amount: string; currencyCode: string };
interface UserError {
  field: string[] | null;
  code: string;
  message: string;
}
interface Order {
  id: string;
  number: number;
  status: string;
  email: string;
  lines: { sku: string; productTitle: string; variantTitle: string; unitPrice: Money; quantity: number }[];
  subtotal: Money;
  shipping: Money;
  tax: Money;
  total: Money;
  carrier: string | null;
  trackingNumber: string | null;
  events: { from: string | null; to: string; note: string | null; createdAt: string }[];
}
interface Payload {
  order: Order | null;
  userErrors: UserError[];
}

const usd = (amount: string): Money => ({ amount, currencyCode: 'USD' });
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const newKey = () => `checkout-${randomUUID()}`;
const dbId = (globalId: string, type: string) => databaseIdOf(globalId, type)!;

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
  { card = 'tok_visa', key = newKey(), provider = 'sandbox', as }: CheckoutOptions = {},
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
async function placed(cartId: string, options?: CheckoutOptions): Promise<Order> {
  const payload = await complete(cartId, options);
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

/** A status change as `token`'s bearer (staff by default), or anonymously with null. */
function transition(name: Transition, input: Input, token: string | null = staff): Promise<GraphQLResponse> {
  return server.gql(
    `mutation ($input: ${TRANSITIONS[name]}!) { ${name}(input: $input) { order { ${ORDER} } ${USER_ERRORS} } }`,
    { input },
    token ?? undefined,
  );
}

/** The order of a status change that must have succeeded. */
async function moved(name: Transition, input: Input): Promise<Order> {
  const res = await transition(name, input);
  expect(res.errors).toBeUndefined();
  expect(res.data[name].userErrors).toEqual([]);
  return res.data[name].order;
}

/** The `extensions.code` of each GraphQL error, with the data next to them. */
const outcome = (res: GraphQLResponse) => ({ data: res.data, codes: res.errors?.map((e) => e.extensions?.code) });

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: variants with known prices and stock, carts built through the cart mutations, customers

interface Variant {
  id: string;
  gid: string;
  sku: string;
  productTitle: string;
  variantTitle: string;
}

let serial = 0;

/** A product with one variant of this price (minor units) and stock, written straight to the database. */
async function makeVariant({ price = 1000, stock = 100 }: { price?: number; stock?: number } = {}): Promise<Variant> {
  const sku = `CHK-${++serial}`;
  const product = await server.prisma.product.create({
    data: {
      title: `Product ${sku}`,
      slug: sku.toLowerCase(),
      variants: { create: { sku, title: `Size ${serial}`, priceAmount: price, stockOnHand: stock } },
    },
    include: { variants: true },
  });
  const variant = product.variants[0]!;
  return {
    id: variant.id,
    gid: toGlobalId('ProductVariant', variant.id),
    sku,
    productTitle: product.title,
    variantTitle: variant.title,
  };
}

/** A product made by staff through productCreate, its variant with `inventoryQuantity` units on hand. */
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

const berlin = BERLIN;
const storedBerlin = { ...berlin, company: null, line2: null, province: null, phone: null };

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

/** A cart through cartCreate, cartBuyerIdentityUpdate (email, Berlin) and cartShippingMethodSelect (Standard). */
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
  if (address) cart = await cartMutation('cartBuyerIdentityUpdate', { cartId: cart.id, shippingAddress: berlin }, as);
  if (shipping)
    cart = await cartMutation('cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: standard }, as);
  return { id: cart.id, email: cart.buyerIdentity.email, cost: cart.cost };
}

/** A signed-in customer: the bearer token, the account's ID and email. */
async function customer() {
  const { accountId } = await server.sessionFor('CUSTOMER');
  const { email } = await server.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
  return { token: await server.tokenFor('CUSTOMER', { accountId }), accountId, email };
}

/** A paid order for a fresh cart of `lines`, by a guest or `as`. */
async function paidOrder(lines: [Variant, number][], as?: string) {
  const cart = await makeCart({ lines, as });
  const order = await placed(cart.id, { as });
  expect(order.status).toBe('PAID');
  return order;
}

// Database reads

const stockOf = (variant: Variant) =>
  server.prisma.productVariant.findUniqueOrThrow({
    where: { id: variant.id },
    select: { stockOnHand: true, stockReserved: true },
  });
const stock = (stockOnHand: number, stockReserved = 0) => ({ stockOnHand, stockReserved });

/** A variant's ledger entries, oldest first by their time (not their IDs: see 'inventoryHistory' below). */
const ledgerOf = async (variant: Variant) =>
  (
    await server.prisma.inventoryChange.findMany({
      where: { variantId: variant.id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    })
  ).map(({ reason, before, after, accountId }) => ({ reason, before, after, accountId }));

/** The orders placed with this email, oldest first, with their payments. */
const ordersOf = (email: string) =>
  server.prisma.order.findMany({ where: { email }, orderBy: { id: 'asc' }, include: { payments: true } });

/** Every row checkout or the state machine could write, to show that a refused call wrote nothing. */
const shopState = async () => ({
  variants: await server.prisma.productVariant.findMany({ orderBy: { id: 'asc' } }),
  orders: await server.prisma.order.findMany({ orderBy: { id: 'asc' }, include: { lines: true, events: true } }),
  payments: await server.prisma.payment.findMany({ orderBy: { id: 'asc' } }),
  ledger: await server.prisma.inventoryChange.findMany({ orderBy: { id: 'asc' } }),
  carts: await server.prisma.cart.findMany({ orderBy: { id: 'asc' }, include: { lines: true } }),
});

const event = (from: string | null, to: string, note: string | null = null) => ({
  from,
  to,
  note,
  createdAt: expect.stringMatching(ISO_DATE),
});
const CREATED = event(null, 'PENDING_PAYMENT');
const AUTHORIZED = event('PENDING_PAYMENT', 'PAID', 'payment authorized');

const cartExists = async (cart: TestCart) =>
  (await server.prisma.cart.count({ where: { id: dbId(cart.id, 'Cart') } })) === 1;

// ---------------------------------------------------------------------------------------------------------------

describe('checkoutComplete with an approved card', () => {
  it('turns the cart into a PAID order: totals, lines, events, stock, ledger, payment, and the cart is gone', async () => {
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

    const order = await placed(cart.id);

    expect(order).toEqual({
      id: expect.any(String),
      number: expect.any(Number),
      status: 'PAID',
      email: cart.email,
      lines: [
        {
          sku: mug.sku,
          productTitle: 'Enamel Mug',
          variantTitle: 'Blue',
          unitPrice: usd('19.99'),
          quantity: 2,
          subtotal: usd('39.98'),
        },
        {
          sku: pen.sku,
          productTitle: 'Fountain Pen',
          variantTitle: 'Fine',
          unitPrice: usd('5.53'),
          quantity: 1,
          subtotal: usd('5.53'),
        },
      ],
      ...cart.cost,
      shippingAddress: storedBerlin,
      shippingMethod: 'Standard',
      carrier: null,
      trackingNumber: null,
      events: [CREATED, AUTHORIZED],
      createdAt: expect.stringMatching(ISO_DATE),
    });
    expect(order.number).toBeGreaterThanOrEqual(1001);

    // the stock is sold: on hand down, nothing left reserved, and the ledger says which order took it
    expect(await stockOf(mug)).toEqual(stock(5));
    expect(await stockOf(pen)).toEqual(stock(2));
    expect(await ledgerOf(mug)).toEqual([
      { reason: 'initial stock', before: 0, after: 7, accountId: staffId },
      { reason: `order #${order.number}`, before: 7, after: 5, accountId: null },
    ]);
    expect(await ledgerOf(pen)).toEqual([
      { reason: 'initial stock', before: 0, after: 3, accountId: staffId },
      { reason: `order #${order.number}`, before: 3, after: 2, accountId: null },
    ]);

    const [stored] = await ordersOf(cart.email!);
    expect(stored).toMatchObject({
      id: dbId(order.id, 'Order'),
      number: order.number,
      status: 'PAID',
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
        failureCode: null,
        providerReference: expect.stringMatching(/^sandbox_/),
      }),
    ]);
    expect(await cartExists(cart)).toBe(false);
    const read = await server.gql(`query ($id: ID!) { cart(id: $id) { id } }`, { id: cart.id });
    expect(outcome(read)).toEqual({ data: { cart: null }, codes: undefined });
  });

  it('gives each order the next number', async () => {
    const mug = await makeVariant();
    const first = await paidOrder([[mug, 1]]);
    const second = await paidOrder([[mug, 1]]);
    expect(second.number).toBe(first.number + 1);
  });

  it('copies the lines in the cart’s order, a line topped up later keeping its place', async () => {
    const [mug, pen, cap] = [await makeVariant(), await makeVariant(), await makeVariant()];
    const cart = await makeCart({
      lines: [
        [cap, 1],
        [pen, 1],
        [mug, 1],
      ],
    });
    await cartMutation('cartLinesAdd', { cartId: cart.id, lines: [{ variantId: cap.gid, quantity: 2 }] });
    const order = await placed(cart.id);
    expect(order.lines.map((line) => [line.sku, line.quantity])).toEqual([
      [cap.sku, 3],
      [pen.sku, 1],
      [mug.sku, 1],
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
    const first = await paidOrder([[cap, 2]]);
    await adjust(5, 'delivery');
    const second = await paidOrder([[cap, 1]]);
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
    const shopper = await customer();
    const mug = await makeVariant({ price: 1000 });
    const cart = await makeCart({ lines: [[mug, 1]], email: null, as: shopper.token });
    expect(cart.email).toBe(shopper.email);
    const order = await placed(cart.id, { as: shopper.token });
    expect(order).toMatchObject({ status: 'PAID', email: shopper.email });
    expect(await server.prisma.order.findUniqueOrThrow({ where: { id: dbId(order.id, 'Order') } })).toMatchObject({
      accountId: shopper.accountId,
    });
  });
});

describe('checkoutComplete of a cart that costs nothing', () => {
  // Regression: a free order once tried to create a payment of 0, which the database refuses.
  it('answers with an order or a user error, not an internal error', async () => {
    const sample = await makeVariant({ price: 0, stock: 5 });
    const cart = await makeCart({ lines: [[sample, 1]], shipping: false, address: false });
    const chicago = { ...berlin, line1: '233 S Wacker Dr', city: 'Chicago', province: 'IL', postalCode: '60606' };
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

    const res = await checkout(cart.id);

    expect(res.errors).toBeUndefined();
    const payload: Payload = res.data.checkoutComplete;
    if (payload.order) {
      expect(payload).toMatchObject({ order: { status: 'PAID', total: usd('0.00') }, userErrors: [] });
      expect(await stockOf(sample)).toEqual(stock(4));
    } else {
      expect(payload.userErrors).not.toEqual([]);
      expect(await stockOf(sample)).toEqual(stock(5));
    }
  });
});

describe('checkoutComplete with a declined card', () => {
  it.each([
    { card: 'tok_card_declined', code: 'card_declined', message: 'The card was declined.' },
    { card: 'tok_insufficient_funds', code: 'insufficient_funds', message: 'The card has insufficient funds.' },
  ])(
    '$card: PAYMENT_DECLINED, the stock as before, the order CANCELLED, and the cart still usable',
    async (decline) => {
      const mug = await makeVariant({ price: 1500, stock: 4 });
      const pen = await makeVariant({ price: 250, stock: 9 });
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
      expect(await stockOf(mug)).toEqual(stock(4));
      expect(await stockOf(pen)).toEqual(stock(9, 1));
      expect(await ledgerOf(mug)).toEqual([]);
      const [cancelled, ...others] = await ordersOf(cart.email!);
      expect(others).toEqual([]);
      expect(cancelled).toMatchObject({ status: 'CANCELLED', cartId: null, reservedUntil: null, totalAmount: 5056 });
      expect(cancelled!.payments).toEqual([
        expect.objectContaining({ status: 'DECLINED', failureCode: decline.code, amount: 5056 }),
      ]);
      const events = await server.prisma.orderEvent.findMany({
        where: { orderId: cancelled!.id },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      expect(events.map((e) => [e.fromStatus, e.toStatus, e.note])).toEqual([
        [null, 'PENDING_PAYMENT', null],
        ['PENDING_PAYMENT', 'CANCELLED', `payment declined: ${decline.code}`],
      ]);

      // the cart is untouched and can be paid with another card under a new key
      expect(await cartExists(cart)).toBe(true);
      const order = await placed(cart.id, { card: 'tok_visa' });
      expect(order).toMatchObject({ status: 'PAID', total: usd('50.56'), events: [CREATED, AUTHORIZED] });
      expect(await stockOf(mug)).toEqual(stock(2));
      expect(await stockOf(pen)).toEqual(stock(6, 1));
      const orders = await ordersOf(cart.email!);
      expect(orders.map((o) => [o.status, o.payments.map((p) => p.status)])).toEqual([
        ['CANCELLED', ['DECLINED']],
        ['PAID', ['AUTHORIZED']],
      ]);
    },
  );
});

describe('checkoutComplete with a transient processor failure', () => {
  it('answers PAYMENT_FAILED with the stock as before; a retry with the same key is charged exactly once', async () => {
    const mug = await makeVariant({ price: 2000, stock: 5 });
    const cart = await makeCart({ lines: [[mug, 2]] });
    const key = newKey();

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
    expect(await stockOf(mug)).toEqual(stock(5));
    expect(await cartExists(cart)).toBe(true);

    const order = await placed(cart.id, { card: 'tok_transient_error', key });
    expect(order).toMatchObject({ status: 'PAID', total: usd('53.54'), events: [CREATED, AUTHORIZED] });
    expect(await stockOf(mug)).toEqual(stock(3));

    const orders = await ordersOf(cart.email!);
    expect(orders.map((o) => [o.status, o.payments.map((p) => [p.status, p.failureCode])])).toEqual([
      ['CANCELLED', [['FAILED', 'transient_error']]],
      ['PAID', [['AUTHORIZED', null]]],
    ]);
    const authorized = await server.prisma.payment.count({
      where: { status: 'AUTHORIZED', order: { email: cart.email! } },
    });
    expect(authorized).toBe(1);
    // a later replay of the key returns that order, still without a second charge
    expect((await placed(cart.id, { card: 'tok_transient_error', key })).id).toBe(order.id);
    expect(await server.prisma.payment.count({ where: { order: { email: cart.email! } } })).toBe(2);
  });
});

describe('checkoutComplete with a payment that needs action', () => {
  it('leaves the order PENDING_PAYMENT with its stock reserved and the payment pending', async () => {
    const mug = await makeVariant({ price: 1000, stock: 6 });
    const cart = await makeCart({ lines: [[mug, 4]] });

    const order = await placed(cart.id, { card: 'tok_requires_action' });

    expect(order).toMatchObject({ status: 'PENDING_PAYMENT', events: [CREATED] });
    expect(await stockOf(mug)).toEqual(stock(6, 4));
    expect(await ledgerOf(mug)).toEqual([]);
    const [stored] = await ordersOf(cart.email!);
    expect(stored).toMatchObject({ status: 'PENDING_PAYMENT', reservedUntil: expect.any(Date) });
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
    const mug = await makeVariant({ stock: 5 });
    const cart = await makeCart({ ...spec, lines: spec.empty ? [] : [[mug, 2]] });
    const before = await shopState();

    expect(await complete(cart.id, options)).toEqual({ order: null, userErrors: errors });

    expect(await shopState()).toEqual(before);
    expect(await stockOf(mug)).toEqual(stock(5));
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
    const mug = await makeVariant({ stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    // the API drops a method that does not serve a new address, so only a changed method row can get here
    await server.prisma.shippingMethod.update({ where: { name: 'Standard' }, data: { countries: ['US'] } });
    try {
      const before = await shopState();
      expect(await complete(cart.id)).toEqual({
        order: null,
        userErrors: [{ field: ['input', 'cartId'], code: 'INVALID', message: 'Standard does not ship to DE.' }],
      });
      expect(await shopState()).toEqual(before);
    } finally {
      const countries = [
        'US',
        'CA',
        'AT',
        'BE',
        'DE',
        'DK',
        'ES',
        'FI',
        'FR',
        'IE',
        'IT',
        'NL',
        'PL',
        'PT',
        'SE',
        'GB',
      ];
      await server.prisma.shippingMethod.update({ where: { name: 'Standard' }, data: { countries } });
    }
  });

  it('refuses with INSUFFICIENT_STOCK naming the SKU when stock fell after the line was added, reserving no line', async () => {
    const [mug, pen, cap] = [
      await makeVariant({ stock: 10 }),
      await makeVariant({ stock: 10 }),
      await makeVariant({ stock: 10 }),
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
    expect([await stockOf(mug), await stockOf(pen), await stockOf(cap)]).toEqual([stock(10), stock(2, 1), stock(10)]);
  });

  it('names every line that is short', async () => {
    const [mug, pen] = [await makeVariant({ stock: 5 }), await makeVariant({ stock: 5 })];
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
  it('replaying a successful key returns the same order: one order and one payment in the database', async () => {
    const mug = await makeVariant({ price: 1200, stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = newKey();

    const first = await placed(cart.id, { key });
    const replays = [await placed(cart.id, { key }), await placed(cart.id, { key, card: 'tok_card_declined' })];

    expect(replays).toEqual([first, first]);
    const orders = await ordersOf(cart.email!);
    expect(orders.map((o) => [o.id, o.payments.map((p) => p.status)])).toEqual([
      [dbId(first.id, 'Order'), ['AUTHORIZED']],
    ]);
    expect(await stockOf(mug)).toEqual(stock(4));
  });

  it('refuses the key of one cart for another with CONFLICT, touching neither', async () => {
    const mug = await makeVariant({ stock: 5 });
    const [used, other] = [await makeCart({ lines: [[mug, 1]] }), await makeCart({ lines: [[mug, 2]] })];
    const key = newKey();
    await placed(used.id, { key });
    const before = await shopState();

    expect(await complete(other.id, { key })).toEqual({
      order: null,
      userErrors: [
        {
          field: ['input', 'idempotencyKey'],
          code: 'CONFLICT',
          message: 'This idempotency key was used for another cart.',
        },
      ],
    });
    expect(await shopState()).toEqual(before);
    expect(await stockOf(mug)).toEqual(stock(4));
  });

  it('replays a declined result as the same decline, even with another card, without a second attempt', async () => {
    const mug = await makeVariant({ stock: 5 });
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = newKey();

    const declined = await complete(cart.id, { key, card: 'tok_card_declined' });
    const before = await shopState();
    const replayed = await complete(cart.id, { key, card: 'tok_visa' });

    expect(declined).toEqual({
      order: null,
      userErrors: [
        { field: ['input', 'payment', 'token'], code: 'PAYMENT_DECLINED', message: 'The card was declined.' },
      ],
    });
    expect(replayed).toEqual(declined);
    expect(await shopState()).toEqual(before);
    expect((await ordersOf(cart.email!)).map((o) => o.status)).toEqual(['CANCELLED']);
  });

  it('records the key with the order it produced', async () => {
    const mug = await makeVariant();
    const cart = await makeCart({ lines: [[mug, 1]] });
    const key = newKey();
    const order = await placed(cart.id, { key });
    expect(await server.prisma.checkoutAttempt.findUniqueOrThrow({ where: { key } })).toMatchObject({
      cartId: dbId(cart.id, 'Cart'),
      orderId: dbId(order.id, 'Order'),
      userErrors: [],
      finishedAt: expect.any(Date),
    });
  });
});

describe('who may check out and read orders', () => {
  let owner: Awaited<ReturnType<typeof customer>>;
  let stranger: Awaited<ReturnType<typeof customer>>;
  let mug: Variant;

  beforeAll(async () => {
    [owner, stranger] = [await customer(), await customer()];
    mug = await makeVariant({ price: 800, stock: 100 });
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
    expect((await placed(own.id, { as: owner.token })).status).toBe('PAID');
    const helped = await makeCart({ lines: [[mug, 1]], email: null, as: owner.token });
    expect((await placed(helped.id, { as: staff })).email).toBe(owner.email);
  });

  // Regression: a paid cart is deleted, so the cart rule lets the replay through; the order once came back to anyone.
  it.each([
    { caller: 'another customer', token: () => stranger.token, code: 'FORBIDDEN' },
    { caller: 'an anonymous visitor', token: () => undefined, code: 'UNAUTHENTICATED' },
  ])('does not replay a customer’s completed checkout to $caller ($code)', async ({ token, code }) => {
    const cart = await makeCart({ lines: [[mug, 1]], email: null, as: owner.token });
    const key = newKey();
    const order = await placed(cart.id, { as: owner.token, key });
    expect((await placed(cart.id, { as: owner.token, key })).id).toBe(order.id);

    expect(outcome(await checkout(cart.id, { as: token(), key }))).toEqual({ data: null, codes: [code] });
  });

  it('shows an order through order(id:) and node(id:) to its customer and staff only', async () => {
    const order = await paidOrder([[mug, 2]], owner.token);
    for (const token of [owner.token, staff]) {
      expect(outcome(await server.gql(ORDER_QUERY, { id: order.id }, token))).toEqual({
        data: { order },
        codes: undefined,
      });
      expect(outcome(await server.gql(NODE_QUERY, { id: order.id }, token))).toEqual({
        data: { node: { __typename: 'Order', id: order.id, number: order.number, status: 'PAID' } },
        codes: undefined,
      });
    }
    for (const [token, code] of [
      [stranger.token, 'FORBIDDEN'],
      [undefined, 'UNAUTHENTICATED'],
    ] as const) {
      expect(outcome(await server.gql(ORDER_QUERY, { id: order.id }, token))).toEqual({
        data: { order: null },
        codes: [code],
      });
      expect(outcome(await server.gql(NODE_QUERY, { id: order.id }, token))).toEqual({
        data: { node: null },
        codes: [code],
      });
    }
  });

  it('keeps a guest’s order from every customer, even one with the same email', async () => {
    const cart = await makeCart({ lines: [[mug, 1]], email: owner.email });
    const order = await placed(cart.id);
    expect(order.email).toBe(owner.email);
    expect(outcome(await server.gql(ORDER_QUERY, { id: order.id }, owner.token))).toEqual({
      data: { order: null },
      codes: ['FORBIDDEN'],
    });
    expect((await server.gql(ORDER_QUERY, { id: order.id }, staff)).data.order.id).toBe(order.id);
  });

  it('answers null for an order that does not exist, and rejects a malformed ID', async () => {
    expect(outcome(await server.gql(ORDER_QUERY, { id: toGlobalId('Order', randomUUID()) }, staff))).toEqual({
      data: { order: null },
      codes: undefined,
    });
    expect(outcome(await server.gql(ORDER_QUERY, { id: toGlobalId('Cart', randomUUID()) }, staff))).toEqual({
      data: { order: null },
      codes: ['BAD_USER_INPUT'],
    });
  });

  it('tracks an order by number and email, the email in any case, for anyone', async () => {
    const cart = await makeCart({ lines: [[mug, 1]], email: `Tracker-${randomUUID()}@Example.test` });
    const order = await placed(cart.id);
    const found = { orderByNumber: { id: order.id, number: order.number } };
    const track = async (number: number, email: string) => outcome(await server.gql(BY_NUMBER, { number, email }));

    expect(await track(order.number, cart.email!)).toEqual({ data: found, codes: undefined });
    expect(await track(order.number, `  ${cart.email!.toUpperCase()} `)).toEqual({ data: found, codes: undefined });
    expect(await track(order.number, 'someone-else@example.test')).toEqual({
      data: { orderByNumber: null },
      codes: undefined,
    });
    expect(await track(order.number + 1000, cart.email!)).toEqual({ data: { orderByNumber: null }, codes: undefined });
  });

  it('lists a customer’s own orders, newest first, in viewer { orders }', async () => {
    const shopper = await customer();
    const first = await paidOrder([[mug, 1]], shopper.token);
    const pendingCart = await makeCart({ lines: [[mug, 1]], as: shopper.token });
    const second = await placed(pendingCart.id, { as: shopper.token, card: 'tok_requires_action' });
    await paidOrder([[mug, 1]], stranger.token);

    const res = await server.gql(VIEWER_ORDERS, {}, shopper.token);
    expect(outcome(res)).toEqual({
      data: {
        viewer: {
          orders: {
            totalCount: 2,
            nodes: [
              { id: second.id, number: second.number, status: 'PENDING_PAYMENT' },
              { id: first.id, number: first.number, status: 'PAID' },
            ],
          },
        },
      },
      codes: undefined,
    });
  });

  it.each(['PAID', 'PENDING_PAYMENT', 'CANCELLED'])(
    'lists orders(filter: { status: %s }) for staff, newest first',
    async (status) => {
      // one order in each of the three statuses, so every filter has something to find
      await paidOrder([[mug, 1]]);
      await complete((await makeCart({ lines: [[mug, 1]] })).id, { card: 'tok_requires_action' });
      await complete((await makeCart({ lines: [[mug, 1]] })).id, { card: 'tok_card_declined' });
      const res = await server.gql(ORDERS, { filter: { status }, first: 100 }, staff);
      const rows = await server.prisma.order.findMany({ where: { status: status as never }, orderBy: { id: 'desc' } });
      expect(rows.length).toBeGreaterThan(0);
      expect(outcome(res)).toEqual({
        data: {
          orders: {
            totalCount: rows.length,
            nodes: rows.slice(0, 100).map((row) => ({ id: toGlobalId('Order', row.id), status })),
          },
        },
        codes: undefined,
      });
    },
  );

  it('lists orders(filter: { createdAfter, createdBefore }) for staff: from createdAfter, up to before createdBefore', async () => {
    for (let i = 0; i < 3; i++) await paidOrder([[mug, 1]]);
    const all = await server.prisma.order.findMany({ orderBy: { id: 'desc' } });
    const times = [...new Set(all.map((order) => order.createdAt.getTime()))].sort((a, b) => a - b);
    // boundaries taken from the orders themselves, so that each side leaves some out
    const [after, before] = [new Date(times[1]!), new Date(times.at(-1)!)];
    const expected = all.filter((order) => order.createdAt >= after && order.createdAt < before);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length - 1);
    const filter = { createdAfter: after.toISOString(), createdBefore: before.toISOString() };
    expect(outcome(await server.gql(ORDERS, { filter, first: 100 }, staff))).toEqual({
      data: {
        orders: {
          totalCount: expected.length,
          nodes: expected.map((row) => ({ id: toGlobalId('Order', row.id), status: row.status })),
        },
      },
      codes: undefined,
    });
  });

  it.each([
    { caller: 'a customer', token: () => owner.token, code: 'FORBIDDEN' },
    { caller: 'an anonymous visitor', token: () => undefined, code: 'UNAUTHENTICATED' },
  ])('refuses orders(...) to $caller with $code', async ({ token, code }) => {
    expect(outcome(await server.gql(ORDERS, { filter: { status: 'PAID' } }, token()))).toEqual({
      data: null,
      codes: [code],
    });
  });
});

describe('the order state machine', () => {
  const DHL = { carrier: 'DHL', trackingNumber: '00340434161094042557' };

  it('moves a paid order to FULFILLED, SHIPPED and DELIVERED, recording each move', async () => {
    const mug = await makeVariant({ stock: 5 });
    const order = await paidOrder([[mug, 2]]);

    const fulfilled = await moved('orderFulfill', { orderId: order.id, ...DHL });
    expect(fulfilled).toEqual({
      ...order,
      status: 'FULFILLED',
      ...DHL,
      events: [CREATED, AUTHORIZED, event('PAID', 'FULFILLED')],
    });
    const shipped = await moved('orderMarkShipped', { orderId: order.id, note: 'left the warehouse' });
    expect(shipped).toEqual({
      ...fulfilled,
      status: 'SHIPPED',
      events: [...fulfilled.events, event('FULFILLED', 'SHIPPED', 'left the warehouse')],
    });
    const delivered = await moved('orderMarkDelivered', { orderId: order.id });
    expect(delivered).toEqual({
      ...shipped,
      status: 'DELIVERED',
      events: [...shipped.events, event('SHIPPED', 'DELIVERED')],
    });

    const stored = await server.prisma.order.findUniqueOrThrow({
      where: { id: dbId(order.id, 'Order') },
      include: { events: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    });
    expect(stored).toMatchObject({ status: 'DELIVERED', ...DHL });
    expect(stored.events.map((e) => [e.fromStatus, e.toStatus, e.accountId])).toEqual([
      [null, 'PENDING_PAYMENT', null],
      ['PENDING_PAYMENT', 'PAID', null],
      ['PAID', 'FULFILLED', staffId],
      ['FULFILLED', 'SHIPPED', staffId],
      ['SHIPPED', 'DELIVERED', staffId],
    ]);
    // shipping an order moves no stock
    expect(await stockOf(mug)).toEqual(stock(3));
  });

  it('refuses a shipment without a carrier or tracking number', async () => {
    const order = await paidOrder([[await makeVariant(), 1]]);
    const before = await shopState();
    const res = await transition('orderFulfill', { orderId: order.id, carrier: ' ', trackingNumber: '123' });
    expect(res.data.orderFulfill).toEqual({
      order: null,
      userErrors: [
        {
          field: ['input', 'carrier'],
          code: 'INVALID',
          message: 'Give a carrier and a tracking number of 1 to 100 characters.',
        },
      ],
    });
    expect(await shopState()).toEqual(before);
  });

  /** An order in `status`, reached through the API. */
  async function orderIn(status: 'PAID' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED') {
    const order = await paidOrder([[await makeVariant(), 1]]);
    if (status === 'CANCELLED') await moved('orderCancel', { orderId: order.id });
    if (status === 'SHIPPED' || status === 'DELIVERED') {
      await moved('orderFulfill', { orderId: order.id, ...DHL });
      await moved('orderMarkShipped', { orderId: order.id });
    }
    if (status === 'DELIVERED') await moved('orderMarkDelivered', { orderId: order.id });
    return order;
  }

  const illegal: { from: 'PAID' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED'; move: Transition; to: string }[] = [
    { from: 'PAID', move: 'orderMarkShipped', to: 'SHIPPED' },
    { from: 'PAID', move: 'orderMarkDelivered', to: 'DELIVERED' },
    { from: 'SHIPPED', move: 'orderFulfill', to: 'FULFILLED' },
    { from: 'SHIPPED', move: 'orderCancel', to: 'CANCELLED' },
    { from: 'DELIVERED', move: 'orderCancel', to: 'CANCELLED' },
    { from: 'CANCELLED', move: 'orderFulfill', to: 'FULFILLED' },
    { from: 'CANCELLED', move: 'orderMarkShipped', to: 'SHIPPED' },
    { from: 'CANCELLED', move: 'orderMarkDelivered', to: 'DELIVERED' },
    { from: 'CANCELLED', move: 'orderCancel', to: 'CANCELLED' },
  ];

  it.each(illegal)('refuses $move on a $from order with CONFLICT, changing nothing', async ({ from, move, to }) => {
    const order = await orderIn(from);
    const before = await shopState();
    const res = await transition(move, { orderId: order.id, ...(move === 'orderFulfill' && DHL) });
    expect(res.errors).toBeUndefined();
    expect(res.data[move]).toEqual({
      order: null,
      userErrors: [
        { field: ['input', 'orderId'], code: 'CONFLICT', message: `An order that is ${from} cannot become ${to}.` },
      ],
    });
    expect(await shopState()).toEqual(before);
  });

  it('answers NOT_FOUND for an order that does not exist', async () => {
    const res = await transition('orderMarkShipped', { orderId: toGlobalId('Order', randomUUID()) });
    expect(res.data.orderMarkShipped).toEqual({
      order: null,
      userErrors: [{ field: ['input', 'orderId'], code: 'NOT_FOUND', message: 'No order with this ID.' }],
    });
  });

  it.each(['PAID', 'FULFILLED'])(
    'orderCancel of a %s order puts its stock back on hand, in the ledger',
    async (status) => {
      const [mug, pen] = [await makeVariant({ stock: 5 }), await makeVariant({ stock: 8 })];
      const order = await paidOrder([
        [mug, 2],
        [pen, 3],
      ]);
      if (status === 'FULFILLED') await moved('orderFulfill', { orderId: order.id, ...DHL });
      expect([await stockOf(mug), await stockOf(pen)]).toEqual([stock(3), stock(5)]);

      const cancelled = await moved('orderCancel', { orderId: order.id, note: 'customer changed their mind' });

      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.events.at(-1)).toEqual(event(status, 'CANCELLED', 'customer changed their mind'));
      expect([await stockOf(mug), await stockOf(pen)]).toEqual([stock(5), stock(8)]);
      expect(await ledgerOf(mug)).toEqual([
        { reason: `order #${order.number}`, before: 5, after: 3, accountId: null },
        { reason: `order #${order.number} cancelled`, before: 3, after: 5, accountId: staffId },
      ]);
      expect(await ledgerOf(pen)).toEqual([
        { reason: `order #${order.number}`, before: 8, after: 5, accountId: null },
        { reason: `order #${order.number} cancelled`, before: 5, after: 8, accountId: staffId },
      ]);
    },
  );

  it('orderCancel of a PENDING_PAYMENT order releases its reservation, with nothing in the ledger', async () => {
    const mug = await makeVariant({ stock: 6 });
    const cart = await makeCart({ lines: [[mug, 4]] });
    const order = await placed(cart.id, { card: 'tok_requires_action' });
    expect(await stockOf(mug)).toEqual(stock(6, 4));

    const cancelled = await moved('orderCancel', { orderId: order.id });

    expect(cancelled).toMatchObject({ status: 'CANCELLED', events: [CREATED, event('PENDING_PAYMENT', 'CANCELLED')] });
    expect(await stockOf(mug)).toEqual(stock(6));
    expect(await ledgerOf(mug)).toEqual([]);
    const stored = await server.prisma.order.findUniqueOrThrow({ where: { id: dbId(order.id, 'Order') } });
    expect(stored.reservedUntil).toBeNull();
  });

  it.each(Object.keys(TRANSITIONS) as Transition[])(
    'refuses %s to a customer (FORBIDDEN) and to an anonymous visitor (UNAUTHENTICATED)',
    async (name) => {
      const shopper = await customer();
      const order = await paidOrder([[await makeVariant(), 1]], shopper.token);
      const before = await shopState();
      const input = { orderId: order.id, ...(name === 'orderFulfill' && DHL) };
      expect(outcome(await transition(name, input, shopper.token))).toEqual({ data: null, codes: ['FORBIDDEN'] });
      expect(outcome(await transition(name, input, null))).toEqual({ data: null, codes: ['UNAUTHENTICATED'] });
      expect(await shopState()).toEqual(before);
    },
  );
});
