// Shared scenario factories and GraphQL documents for the commerce tests: variants with stock, carts built through
// the cart mutations, customers, checkouts and placed orders, and the staff's order and payment operations. Each
// factory takes the server it works on, so one file's fixtures never leak into another's.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { seedStoreSettings } from '../../src/db/seed/store.js';
import { databaseIdOf, toGlobalId } from '../../src/graphql/globalId.js';
import { BERLIN } from './fixtures.js';
import { signWebhook } from '../../src/modules/payment/webhookSignature.js';
import { TEST_WEBHOOK_SECRET, type GraphQLResponse, type TestServer } from './testServer.js';

export type Input = Record<string, unknown>;
export interface Money {
  amount: string;
  currencyCode: string;
}
export interface UserError {
  field: string[] | null;
  code: string;
  message: string;
}

export const MONEY = 'amount currencyCode';
export const USER_ERRORS = 'userErrors { field message code }';
export const ADDRESS = 'firstName lastName company line1 line2 city province postalCode countryCode phone';
export const ORDER_FIELDS = `id number status financialStatus fulfillmentStatus email
  lines { id sku productTitle variantTitle unitPrice { ${MONEY} } quantity subtotal { ${MONEY} }
    fulfilledQuantity refundedQuantity fulfillableQuantity }
  subtotal { ${MONEY} } shipping { ${MONEY} } tax { ${MONEY} } total { ${MONEY} }
  shippingAddress { ${ADDRESS} } shippingMethod
  fulfillments { id status carrier trackingNumber lines { orderLine { id sku } quantity } }
  payment { status amount { ${MONEY} } captured { ${MONEY} } refunded { ${MONEY} } }
  events { kind from to note createdAt } createdAt`;

export const CHECKOUT = `mutation ($input: CheckoutCompleteInput!) {
  checkoutComplete(input: $input) { order { ${ORDER_FIELDS} } ${USER_ERRORS} } }`;
export const ORDER_QUERY = `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;

/** Staff mutations on orders and payments, each with its input type and what its payload returns. */
export const OPERATIONS = {
  orderFulfill: ['OrderFulfillInput', `order { ${ORDER_FIELDS} } fulfillment { id status }`],
  fulfillmentMarkShipped: ['FulfillmentTransitionInput', `order { ${ORDER_FIELDS} } fulfillment { id status }`],
  fulfillmentMarkDelivered: ['FulfillmentTransitionInput', `order { ${ORDER_FIELDS} } fulfillment { id status }`],
  orderCancel: ['OrderCancelInput', `order { ${ORDER_FIELDS} }`],
  paymentCapture: ['PaymentCaptureInput', `order { ${ORDER_FIELDS} }`],
  paymentVoid: ['PaymentVoidInput', `order { ${ORDER_FIELDS} }`],
  paymentRefund: ['PaymentRefundInput', `order { ${ORDER_FIELDS} }`],
} as const;
export type Operation = keyof typeof OPERATIONS;

export interface OrderView {
  id: string;
  number: number;
  status: string;
  financialStatus: string;
  fulfillmentStatus: string;
  email: string;
  lines: {
    id: string;
    sku: string;
    quantity: number;
    fulfilledQuantity: number;
    refundedQuantity: number;
    fulfillableQuantity: number;
    unitPrice: Money;
  }[];
  total: Money;
  fulfillments: { id: string; status: string; carrier: string; trackingNumber: string }[];
  payment: { status: string; amount: Money; captured: Money; refunded: Money } | null;
  events: { kind: string; from: string | null; to: string; note: string | null; createdAt: string }[];
}

export interface Variant {
  /** Database ID. */
  id: string;
  gid: string;
  sku: string;
  productTitle: string;
  variantTitle: string;
}

/** A variant as `variant` made it, with its product's global ID. */
export interface MadeVariant extends Variant {
  productGid: string;
}

export interface VariantOptions {
  /** Minor units; 1000 by default. */
  price?: number;
  /** Units on hand; 100 by default. */
  stock?: number;
  /** Units held by pending checkouts; 0 by default. */
  reserved?: number;
  /** Fixes the variant's database ID (a UUID), to decide ties in an ordering by ID. */
  id?: string;
  /** The database ID of a category to list the product in. */
  categoryId?: string;
  /** The SKU's prefix, before `-<8 hex digits>-<serial>`; "SKU" by default. */
  sku?: string;
}

export const newKey = (prefix = 'key') => `${prefix}-${randomUUID()}`;
export const dbId = (globalId: string, type: string) => databaseIdOf(globalId, type)!;

/** The commerce fixtures of one server: the store's shipping methods and tax rates are seeded on first use. */
export function commerce(server: TestServer) {
  let standard: Promise<string> | undefined;
  let serial = 0;
  const standardMethod = () =>
    (standard ??= seedStoreSettings(server.prisma).then(async () => {
      const method = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
      return toGlobalId('ShippingMethod', method.id);
    }));

  /** A product with one variant of this price (minor units) and stock, written straight to the database (so without
   * a ledger entry); see VariantOptions for the rest. */
  async function variant({
    price = 1000,
    stock = 100,
    reserved = 0,
    id,
    categoryId,
    sku: prefix = 'SKU',
  }: VariantOptions = {}): Promise<MadeVariant> {
    const sku = `${prefix}-${randomUUID().slice(0, 8)}-${++serial}`;
    const product = await server.prisma.product.create({
      data: {
        title: `Product ${sku}`,
        slug: sku.toLowerCase(),
        ...(categoryId && { categories: { create: { categoryId } } }),
        variants: {
          create: {
            id,
            sku,
            title: `Size ${serial}`,
            priceAmount: price,
            stockOnHand: stock,
            stockReserved: reserved,
          },
        },
      },
      include: { variants: true },
    });
    const made = product.variants[0]!;
    return {
      id: made.id,
      gid: toGlobalId('ProductVariant', made.id),
      sku,
      productTitle: product.title,
      variantTitle: made.title,
      productGid: toGlobalId('Product', product.id),
    };
  }

  async function cartMutation(name: string, input: Input, token?: string) {
    const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
    const res = await server.gql(
      `mutation ($input: ${inputType}!) { ${name}(input: $input) { cart { id buyerIdentity { email } } ${USER_ERRORS} } }`,
      { input },
      token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data[name].userErrors).toEqual([]);
    return res.data[name].cart as { id: string; buyerIdentity: { email: string | null } };
  }

  /** A cart ready to check out: lines, an email (unique by default), Berlin and the Standard shipping method. */
  async function cart(
    lines: [Variant, number][],
    { email = `buyer-${randomUUID()}@example.test`, as }: { email?: string | null; as?: string } = {},
  ): Promise<string> {
    const made = await cartMutation(
      'cartCreate',
      { lines: lines.map(([v, quantity]) => ({ variantId: v.gid, quantity })), email },
      as,
    );
    await cartMutation('cartBuyerIdentityUpdate', { cartId: made.id, shippingAddress: BERLIN }, as);
    await cartMutation('cartShippingMethodSelect', { cartId: made.id, shippingMethodId: await standardMethod() }, as);
    return made.id;
  }

  function checkout(cartId: string, { card = 'tok_visa', key = newKey('checkout'), as }: CheckoutOptions = {}) {
    return server.gql(
      CHECKOUT,
      { input: { cartId, payment: { provider: 'sandbox', token: card }, idempotencyKey: key } },
      as,
    );
  }

  /** The order of a checkout that must have succeeded. */
  async function placed(cartId: string, options?: CheckoutOptions): Promise<OrderView> {
    const res = await checkout(cartId, options);
    expect(res.errors).toBeUndefined();
    expect(res.data.checkoutComplete.userErrors).toEqual([]);
    return res.data.checkoutComplete.order;
  }

  /** An order placed through checkout with an approved card (financialStatus AUTHORIZED). */
  async function authorizedOrder(lines: [Variant, number][], as?: string): Promise<OrderView> {
    const order = await placed(await cart(lines, { as }), { as });
    expect(order).toMatchObject({ status: 'OPEN', financialStatus: 'AUTHORIZED' });
    return order;
  }

  /** A signed-in customer: the bearer token, the account's ID and email. */
  async function customer() {
    const { accountId } = await server.sessionFor('CUSTOMER');
    const { email } = await server.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    return { token: await server.tokenFor('CUSTOMER', { accountId }), accountId, email };
  }

  /** A staff or customer operation on an order or payment, as `token`'s bearer. */
  function operate(name: Operation, input: Input, token: string | undefined) {
    const [type, fields] = OPERATIONS[name];
    return server.gql(
      `mutation ($input: ${type}!) { ${name}(input: $input) { ${fields} ${USER_ERRORS} } }`,
      { input },
      token,
    );
  }

  /** The payload of an operation that must have succeeded. */
  async function done(name: Operation, input: Input, token: string | undefined) {
    const res = await operate(name, input, token);
    expect(res.errors).toBeUndefined();
    expect(res.data[name].userErrors).toEqual([]);
    return res.data[name] as { order: OrderView; fulfillment?: { id: string; status: string } };
  }

  /** The user errors of an operation that must have been refused. */
  async function refused(name: Operation, input: Input, token: string | undefined): Promise<UserError[]> {
    const res = await operate(name, input, token);
    expect(res.errors).toBeUndefined();
    expect(res.data[name].userErrors).not.toEqual([]);
    return res.data[name].userErrors;
  }

  const stockOf = (v: Variant) =>
    server.prisma.productVariant.findUniqueOrThrow({
      where: { id: v.id },
      select: { stockOnHand: true, stockReserved: true },
    });

  return { variant, cart, cartMutation, checkout, placed, authorizedOrder, customer, operate, done, refused, stockOf };
}

export interface CheckoutOptions {
  /** The sandbox test token; tok_visa approves. */
  card?: string;
  key?: string;
  /** The bearer token of the caller; a guest when left out. */
  as?: string;
}

/** The `extensions.code` of each GraphQL error, with the data next to them. */
export const outcome = (res: GraphQLResponse) => ({
  data: res.data,
  codes: res.errors?.map((e) => e.extensions?.code),
});

export const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An OrderEvent as the API shows it. */
export const orderEvent = (kind: string, from: string | null, to: string, note: string | null = null) => ({
  kind,
  from,
  to,
  note,
  createdAt: expect.stringMatching(ISO_DATE),
});

/** The events of a checkout whose card was approved. */
export const AUTHORIZED_EVENTS = [
  orderEvent('STATUS', null, 'CHECKOUT'),
  orderEvent('STATUS', 'CHECKOUT', 'OPEN', 'payment authorized'),
  orderEvent('FINANCIAL', 'PENDING', 'AUTHORIZED', 'payment authorized'),
];

/** A processor event's body, with an event ID of its own. */
export const webhookBody = (type: string, reference: string | null, amount: number) =>
  JSON.stringify({ id: `evt_${randomUUID()}`, type, reference, amount });

/** A delivery to POST /webhooks/payments/<provider>, signed with the test secret unless `signature` is given. */
export async function deliverWebhook(
  server: TestServer,
  { body, signature = signWebhook(TEST_WEBHOOK_SECRET, body), provider = 'sandbox' }: WebhookDelivery,
) {
  const response = await fetch(new URL(`/webhooks/payments/${provider}`, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'agora-signature': signature },
    body,
  });
  return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') };
}

export interface WebhookDelivery {
  body: string;
  signature?: string;
  provider?: string;
}

/** Polls `read` every 20 ms, up to 5 s, until `done` holds; returns the last value. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 250 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}
