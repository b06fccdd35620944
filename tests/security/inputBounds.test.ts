// Numbers, dates and cursors at and beyond the edges of the database's types (int4, real, timestamptz), in every
// argument a client (anonymous, customer or staff) can send them: each is answered as BAD_USER_INPUT, a userError
// or an ordinary result, never as a 500, and nothing internal leaks, over every transport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/graphql/connection.js';
import { toGlobalId } from '../../src/graphql/globalId.js';
import { commerce, type OrderView } from '../support/commerce.js';
import type { TestServer } from '../support/testServer.js';
import { expectNoLeak, seedSmallCatalog, startProductionServer, uuid } from './support.js';
import { TRANSPORTS, type Outcome } from './transports.js';

let server: TestServer;
let staff: string;
let order: OrderView;

const INT4_MAX = 2_147_483_647;
const INT4_MIN = -2_147_483_648;
const HUGE_DECIMAL = '999999999999999.99';

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all' });
  await seedSmallCatalog(server.prisma);
  staff = await server.tokenFor('STAFF');
  const shop = commerce(server);
  order = await shop.authorizedOrder([[await shop.variant({ price: 1000 }), 2]]);
});
afterAll(() => server?.close());

/** What the answer must be: a refused argument or variable, userErrors with this code, or data without errors. */
type Expected = 'BAD_USER_INPUT' | { userError: string } | 'answered';

interface Case {
  name: string;
  query: string;
  /** A function where the values exist only once the suite has started (the order). */
  variables: Record<string, unknown> | (() => Record<string, unknown>);
  staff?: boolean;
  expected: Expected;
}

const productsAfter = (key: unknown[]) => ({ c: encodeCursor(key) });
const PRODUCTS_BY = (sortKey: string) =>
  `query ($c: String) { products(sortKey: ${sortKey}, filter: { query: "hoodie" }, after: $c) { nodes { id } } }`;
const HISTORY =
  'query ($c: String) { product(slug: "aurora-hoodie") { variants { inventoryHistory(after: $c) { totalCount } } } }';
const CART_CREATE =
  'mutation ($q: Int!) { cartCreate(input: { lines: [{ variantId: "V", quantity: $q }] }) { userErrors { code } } }';
const VARIANT = toGlobalId('ProductVariant', uuid(11));
const cartCreate = CART_CREATE.replace('"V"', `"${VARIANT}"`);
const staffMutation = (name: string, type: string, fields: string) =>
  `mutation ($input: ${type}!) { ${name}(input: $input) { ${fields} userErrors { code } } }`;
const lineOf = () => order.lines[0]!.id;

const CASES: Case[] = [
  // cursors whose values PostgreSQL cannot take
  {
    name: 'a RELEVANCE cursor below real',
    query: PRODUCTS_BY('RELEVANCE'),
    variables: productsAfter(['RELEVANCE', 1e-300, uuid(1)]),
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'a RELEVANCE cursor above real',
    query: PRODUCTS_BY('RELEVANCE'),
    variables: productsAfter(['RELEVANCE', 1e300, uuid(1)]),
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'a CREATED_AT cursor in year 0',
    query: PRODUCTS_BY('CREATED_AT'),
    variables: productsAfter(['CREATED_AT', '0000-01-01T00:00:00.000Z', uuid(1)]),
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'a PRICE cursor beyond bigint precision',
    query: PRODUCTS_BY('PRICE'),
    variables: productsAfter(['PRICE', 2 ** 60, uuid(1)]),
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'a lowStockVariants cursor above int4',
    query: 'query ($c: String) { lowStockVariants(threshold: 5, after: $c) { totalCount } }',
    variables: { c: encodeCursor([1e15, uuid(11)]) },
    staff: true,
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'an inventoryHistory cursor before year 1',
    query: HISTORY,
    variables: { c: encodeCursor(['-271821-04-20T00:00:00.000Z', uuid(1)]) },
    staff: true,
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'an inventoryHistory cursor in year 0',
    query: HISTORY,
    variables: { c: encodeCursor(['0000-01-01T00:00:00.000Z', uuid(1)]) },
    staff: true,
    expected: 'BAD_USER_INPUT',
  },
  // page sizes and other Int arguments
  {
    name: 'first: int4 max',
    query: 'query { products(first: 2147483647) { totalCount } }',
    variables: {},
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'first: beyond int4',
    query: 'query ($n: Int) { products(first: $n) { totalCount } }',
    variables: { n: 2 ** 31 },
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'last: int4 min',
    query: `query { categories(last: ${INT4_MIN}) { totalCount } }`,
    variables: {},
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'orderByNumber at int4 min',
    query: 'query ($n: Int!) { orderByNumber(number: $n, email: "a@example.test") { id } }',
    variables: { n: INT4_MIN },
    expected: 'answered',
  },
  {
    name: 'lowStockVariants threshold int4 max',
    query: 'query ($n: Int!) { lowStockVariants(threshold: $n) { totalCount } }',
    variables: { n: INT4_MAX },
    staff: true,
    expected: 'answered',
  },
  // money filters
  {
    name: 'a minPrice above every price',
    query: 'query ($p: Decimal) { products(filter: { minPrice: $p }) { totalCount } }',
    variables: { p: HUGE_DECIMAL },
    expected: 'answered',
  },
  {
    name: 'a maxPrice above every price',
    query: 'query ($p: Decimal) { products(filter: { maxPrice: $p }) { totalCount } }',
    variables: { p: HUGE_DECIMAL },
    expected: 'answered',
  },
  // quantities and amounts in mutations
  {
    name: 'a cart line of int4 max units',
    query: cartCreate,
    variables: { q: INT4_MAX },
    expected: { userError: 'INVALID' },
  },
  {
    name: 'a cart line of int4 min units',
    query: cartCreate,
    variables: { q: INT4_MIN },
    expected: { userError: 'INVALID' },
  },
  {
    name: 'inventoryAdjust by int4 max',
    query: staffMutation('inventoryAdjust', 'InventoryAdjustInput', 'productVariant { id }'),
    variables: { input: { variantId: VARIANT, delta: INT4_MAX, reason: 'overflow' } },
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'inventoryAdjust by int4 min',
    query: staffMutation('inventoryAdjust', 'InventoryAdjustInput', 'productVariant { id }'),
    variables: { input: { variantId: VARIANT, delta: INT4_MIN, reason: 'overflow' } },
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'inventorySet to int4 max against int4 min',
    query: staffMutation('inventorySet', 'InventorySetInput', 'productVariant { id }'),
    variables: { input: { variantId: VARIANT, quantity: INT4_MAX, compareQuantity: INT4_MIN } },
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'a capture of a huge amount',
    query: staffMutation('paymentCapture', 'PaymentCaptureInput', 'order { id }'),
    variables: () => ({ input: { orderId: order.id, amount: HUGE_DECIMAL, idempotencyKey: 'bounds-capture' } }),
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'a refund of a huge amount',
    query: staffMutation('paymentRefund', 'PaymentRefundInput', 'order { id }'),
    variables: () => ({ input: { orderId: order.id, amount: HUGE_DECIMAL, idempotencyKey: 'bounds-refund-1' } }),
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'a refund of int4 max units',
    query: staffMutation('paymentRefund', 'PaymentRefundInput', 'order { id }'),
    variables: () => ({
      input: {
        orderId: order.id,
        lines: [{ orderLineId: lineOf(), quantity: INT4_MAX }],
        idempotencyKey: 'bounds-refund-2',
      },
    }),
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'a fulfillment of int4 min units',
    query: staffMutation('orderFulfill', 'OrderFulfillInput', 'order { id }'),
    variables: () => ({
      input: {
        orderId: order.id,
        lines: [{ orderLineId: lineOf(), quantity: INT4_MIN }],
        carrier: 'DHL',
        trackingNumber: '1',
      },
    }),
    staff: true,
    expected: { userError: 'INVALID' },
  },
  {
    name: 'a variant priced above int4 with int4 max units',
    query: staffMutation('productVariantCreate', 'ProductVariantCreateInput', 'productVariant { id }'),
    variables: {
      input: {
        productId: toGlobalId('Product', uuid(3)),
        sku: 'HUGE',
        title: 'Huge',
        price: HUGE_DECIMAL,
        inventoryQuantity: INT4_MAX,
      },
    },
    staff: true,
    expected: { userError: 'INVALID' },
  },
  // dates
  {
    name: 'orders created after year 0',
    query: 'query ($d: DateTime) { orders(filter: { createdAfter: $d }) { totalCount } }',
    variables: { d: '0000-01-01T00:00:00Z' },
    staff: true,
    expected: 'BAD_USER_INPUT',
  },
  {
    name: 'orders created before year 10000',
    query: 'query ($d: DateTime) { orders(filter: { createdBefore: $d }) { totalCount } }',
    variables: { d: '+010000-01-01T00:00:00Z' },
    staff: true,
    expected: 'BAD_USER_INPUT',
  },
];

function expectAnswer(res: Outcome, expected: Expected) {
  const codes = (res.errors ?? []).map((error) => error.extensions?.code);
  expect(res.closed, res.text).toBeUndefined();
  expect(res.status, res.text).not.toBe(500);
  expect(codes, res.text).not.toContain('INTERNAL_SERVER_ERROR');
  if (expected === 'BAD_USER_INPUT') expect(new Set(codes), res.text).toEqual(new Set(['BAD_USER_INPUT']));
  else {
    if (res.status !== undefined) expect(res.status, res.text).toBe(200);
    expect(codes, res.text).toEqual([]);
    if (expected !== 'answered') {
      const [payload] = Object.values(res.data as Record<string, { userErrors: { code: string }[] }>);
      expect(
        payload!.userErrors.map((error) => error.code),
        res.text,
      ).toContain(expected.userError);
    }
  }
}

describe.each(TRANSPORTS)('inputs at the edges of the database types over %s', (name, transport) => {
  // GET refuses mutations for a reason of its own.
  const cases = CASES.filter((c) => name !== 'HTTP GET' || !c.query.startsWith('mutation'));
  it.each(cases.map((c) => [c.name, c] as const))('%s: no 500, no leak', async (_, c) => {
    const variables = typeof c.variables === 'function' ? c.variables() : c.variables;
    const res = await transport(server, { query: c.query, variables }, c.staff ? staff : undefined);
    expectAnswer(res, c.expected);
    expectNoLeak(res.text);
  });
});
