// SQL injection through every filter, search, cursor and lookup argument the schema offers: each attack string gets
// an ordinary answer (nothing found, or BAD_USER_INPUT for a malformed value), never reaches the SQL text (values are
// bound parameters), leaks no SQL or driver message, and leaves the data as it was, over every transport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/graphql/globalId.js';
import { catalogState } from '../support/catalogState.js';
import type { TestServer } from '../support/testServer.js';
import { bearer, expectNoLeak, gql, seedSmallCatalog, startProductionServer } from './support.js';
import { TRANSPORTS, type Outcome as Answer } from './transports.js';

const ATTACKS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE product; --",
  '1; DELETE FROM account',
  '") UNION SELECT id, email, password_hash FROM account --',
  "' AND pg_sleep(3) IS NOT NULL --",
  '$$; DROP TABLE "order"; $$',
  "\\'; TRUNCATE product CASCADE; --",
  '%',
  '_%',
  // NoSQL operators, as strings: inert here
  '{"$gt": ""}',
  '{"$where": "sleep(3000)"}',
  "'; return true; var x='",
];

let server: TestServer;
let staff: string;
let customer: string;
let orderNumber: number;
let before: Awaited<ReturnType<typeof snapshot>>;

/** Everything an injection could change or delete. */
const snapshot = async () => ({
  catalog: await catalogState(server.prisma),
  accounts: await server.prisma.account.findMany({ orderBy: { id: 'asc' } }),
  orders: await server.prisma.order.findMany({ orderBy: { id: 'asc' } }),
});

beforeAll(async () => {
  const unthrottled = '100000000/100000';
  server = await startProductionServer({
    WEBSOCKET_OPERATIONS: 'all',
    RATE_LIMIT_ANONYMOUS: unthrottled,
    RATE_LIMIT_CUSTOMER: unthrottled,
    RATE_LIMIT_STAFF: unthrottled,
    ORDER_LOOKUP_LIMIT_PER_ADDRESS: '100000/600',
    ORDER_LOOKUP_LIMIT_PER_ORDER: '100000/3600',
  });
  await seedSmallCatalog(server.prisma);
  const order = await server.prisma.order.create({
    data: {
      email: 'buyer@example.test',
      status: 'OPEN',
      currencyCode: 'USD',
      subtotalAmount: 5200,
      shippingAmount: 0,
      taxAmount: 0,
      totalAmount: 5200,
      shippingAddress: { firstName: 'Private', lastName: 'Person', line1: 'Hidden Lane 7', city: 'Secretville' },
      shippingMethod: 'Standard',
    },
  });
  orderNumber = order.number!;
  staff = await server.tokenFor('STAFF');
  customer = await server.tokenFor('CUSTOMER');
  before = await snapshot();
});
afterAll(() => server?.close());

type Outcome =
  /** 200 with exactly this data. */
  | { data: unknown }
  /** A resolver refused the argument: 200, only BAD_USER_INPUT errors, nothing but nulls in data. */
  | 'bad argument'
  /** The value does not fit the variable's type: 400 BAD_USER_INPUT before execution. */
  | 'bad variable';

interface Case {
  name: string;
  query: string;
  variables: (attack: string) => Record<string, unknown>;
  as?: 'staff' | 'customer';
  outcome: Outcome;
}

const p = (attack: string) => ({ p: attack });
/** A cursor that decodes to JSON holding the attack. */
const cursor = (attack: string) => ({ p: Buffer.from(JSON.stringify([attack, attack])).toString('base64url') });
const EMPTY_PRODUCTS = { data: { products: { totalCount: 0, nodes: [] } } };

const CASES: Case[] = [
  // catalog: public
  {
    name: 'products filter.query',
    query: 'query ($p: String) { products(filter: { query: $p }) { totalCount nodes { id } } }',
    variables: p,
    outcome: EMPTY_PRODUCTS,
  },
  {
    name: 'products filter.query sorted by RELEVANCE',
    query: 'query ($p: String) { products(filter: { query: $p }, sortKey: RELEVANCE) { totalCount nodes { id } } }',
    variables: p,
    outcome: EMPTY_PRODUCTS,
  },
  {
    name: 'products filter.categoryId',
    query: 'query ($p: ID) { products(filter: { categoryId: $p }) { totalCount } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'products filter.categoryId as a Category global ID',
    query: 'query ($p: ID) { products(filter: { categoryId: $p }) { totalCount } }',
    variables: (a) => ({ p: toGlobalId('Category', a) }),
    outcome: 'bad argument',
  },
  {
    name: 'products filter.minPrice',
    query: 'query ($p: Decimal) { products(filter: { minPrice: $p }) { totalCount } }',
    variables: p,
    outcome: 'bad variable',
  },
  {
    name: 'products filter.maxPrice',
    query: 'query ($p: Decimal) { products(filter: { maxPrice: $p }) { totalCount } }',
    variables: p,
    outcome: 'bad variable',
  },
  {
    name: 'products filter.availableForSale',
    query: 'query ($p: Boolean) { products(filter: { availableForSale: $p }) { totalCount } }',
    variables: p,
    outcome: 'bad variable',
  },
  {
    name: 'products sortKey',
    query: 'query ($p: ProductSortKeys) { products(sortKey: $p) { totalCount } }',
    variables: p,
    outcome: 'bad variable',
  },
  {
    name: 'products after',
    query: 'query ($p: String) { products(after: $p) { totalCount } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'products before',
    query: 'query ($p: String) { products(last: 2, before: $p) { totalCount } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'products after, a cursor holding the attack',
    query: 'query ($p: String) { products(sortKey: TITLE, after: $p) { totalCount } }',
    variables: cursor,
    outcome: 'bad argument',
  },
  {
    name: 'products first',
    query: 'query ($p: Int) { products(first: $p) { totalCount } }',
    variables: p,
    outcome: 'bad variable',
  },
  {
    name: 'product slug',
    query: 'query ($p: String) { product(slug: $p) { id } }',
    variables: p,
    outcome: { data: { product: null } },
  },
  {
    name: 'product id',
    query: 'query ($p: ID) { product(id: $p) { id } }',
    variables: p,
    outcome: { data: { product: null } },
  },
  {
    name: 'category slug',
    query: 'query ($p: String) { category(slug: $p) { id } }',
    variables: p,
    outcome: { data: { category: null } },
  },
  {
    name: 'category id',
    query: 'query ($p: ID) { category(id: $p) { id } }',
    variables: p,
    outcome: { data: { category: null } },
  },
  {
    name: 'categories parentId',
    query: 'query ($p: ID) { categories(parentId: $p) { totalCount } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'categories after',
    query: 'query ($p: String) { categories(after: $p) { totalCount } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'categories before',
    query: 'query ($p: String) { categories(last: 1, before: $p) { totalCount } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'Category.products after',
    query: 'query ($p: String) { category(slug: "home") { products(after: $p) { totalCount } } }',
    variables: p,
    outcome: 'bad argument',
  },
  {
    name: 'Category.products sortKey',
    query: 'query ($p: ProductSortKeys) { category(slug: "home") { products(sortKey: $p) { totalCount } } }',
    variables: p,
    outcome: 'bad variable',
  },
  { name: 'node id', query: 'query ($p: ID!) { node(id: $p) { id } }', variables: p, outcome: 'bad argument' },
  {
    name: 'nodes ids',
    query: 'query ($p: ID!) { nodes(ids: [$p, $p]) { id } }',
    variables: p,
    outcome: 'bad argument',
  },
  // carts and orders: public lookups by secret or by number and email
  { name: 'cart id', query: 'query ($p: ID!) { cart(id: $p) { id } }', variables: p, outcome: 'bad argument' },
  { name: 'order id', query: 'query ($p: ID!) { order(id: $p) { id } }', variables: p, outcome: 'bad argument' },
  {
    name: 'orderByNumber email',
    query:
      'query ($n: Int!, $p: String!) { orderByNumber(number: $n, email: $p) { id email shippingAddress { city } } }',
    variables: (a) => ({ n: orderNumber, p: a }),
    outcome: { data: { orderByNumber: null } },
  },
  {
    name: 'orderByNumber number',
    query: 'query ($p: Int!) { orderByNumber(number: $p, email: "buyer@example.test") { id } }',
    variables: p,
    outcome: 'bad variable',
  },
  // the viewer's own lists
  {
    name: 'viewer orders after',
    query: 'query ($p: String) { viewer { orders(after: $p) { totalCount } } }',
    variables: p,
    as: 'customer',
    outcome: 'bad argument',
  },
  // staff
  {
    name: 'accounts role',
    query: 'query ($p: Role) { accounts(role: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad variable',
  },
  {
    name: 'accounts after',
    query: 'query ($p: String) { accounts(after: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'accounts before',
    query: 'query ($p: String) { accounts(last: 1, before: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'orders filter.customerId',
    query: 'query ($p: ID) { orders(filter: { customerId: $p }) { totalCount nodes { id } } }',
    variables: p,
    as: 'staff',
    outcome: { data: { orders: { totalCount: 0, nodes: [] } } },
  },
  {
    name: 'orders filter.status',
    query: 'query ($p: OrderStatus) { orders(filter: { status: $p }) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad variable',
  },
  {
    name: 'orders filter.createdAfter',
    query: 'query ($p: DateTime) { orders(filter: { createdAfter: $p }) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad variable',
  },
  {
    name: 'orders filter.createdBefore',
    query: 'query ($p: DateTime) { orders(filter: { createdBefore: $p }) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad variable',
  },
  {
    name: 'orders after',
    query: 'query ($p: String) { orders(after: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'orders before',
    query: 'query ($p: String) { orders(last: 1, before: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'lowStockVariants threshold',
    query: 'query ($p: Int!) { lowStockVariants(threshold: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad variable',
  },
  {
    name: 'lowStockVariants after',
    query: 'query ($p: String) { lowStockVariants(threshold: 5, after: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'lowStockVariants after, a cursor holding the attack',
    query: 'query ($p: String) { lowStockVariants(threshold: 5, after: $p) { totalCount } }',
    variables: cursor,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'lowStockVariants before',
    query: 'query ($p: String) { lowStockVariants(threshold: 5, last: 1, before: $p) { totalCount } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
  {
    name: 'ProductVariant.inventoryHistory after',
    query:
      'query ($p: String) { product(slug: "aurora-hoodie") { variants { inventoryHistory(after: $p) { totalCount } } } }',
    variables: p,
    as: 'staff',
    outcome: 'bad argument',
  },
];

/** Every leaf of `data` is null: a refused field gave nothing away. */
const onlyNulls = (data: unknown): boolean =>
  data === null || data === undefined || (typeof data === 'object' && Object.values(data).every(onlyNulls));

/** The status is HTTP's; over WebSocket the same errors and data come without one. */
function expectOutcome(res: Answer, outcome: Outcome, attack: string) {
  const codes = (res.errors ?? []).map((error) => error.extensions?.code);
  const status = (expected: number) => res.status !== undefined && expect(res.status, res.text).toBe(expected);
  expect(res.closed, res.text).toBeUndefined();
  if (outcome === 'bad variable') {
    status(400);
    expect(codes).toEqual(['BAD_USER_INPUT']);
    expect(res.data).toBeUndefined();
  } else if (outcome === 'bad argument') {
    status(200);
    expect(codes.length, res.text).toBeGreaterThan(0);
    expect(new Set(codes), res.text).toEqual(new Set(['BAD_USER_INPUT']));
    expect(onlyNulls(res.data), res.text).toBe(true);
  } else {
    status(200);
    expect(res.errors, res.text).toBeUndefined();
    expect(res.data, attack).toEqual(outcome.data);
  }
}

describe.each(TRANSPORTS)('attack strings in arguments over %s', (_, transport) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: an ordinary answer, the value bound, no leak', async (_, c) => {
    const token = c.as && (c.as === 'staff' ? staff : customer);
    for (const attack of ATTACKS) {
      const variables = c.variables(attack);
      server.statements!.reset();
      const started = performance.now();
      const res = await transport(server, { query: c.query, variables }, token);
      const elapsed = performance.now() - started;
      expect.soft(res.status, `${attack}: ${res.text}`).not.toBe(500);
      expectOutcome(res, c.outcome, attack);
      expectNoLeak(res.text, [attack, ...Object.values(variables).map(String)]);
      // pg_sleep(3) did not run
      expect(elapsed).toBeLessThan(2500);
      // the attack travelled as a bound parameter, never as SQL text
      for (const sql of server.statements!.statements()) expect(sql).not.toContain(attack);
    }
  });
});

describe.each(TRANSPORTS)('NoSQL operator objects in place of strings over %s', (_, transport) => {
  it.each([{ $gt: '' }, { $ne: null }, { $regex: '.*' }, [{ $where: '1' }]])(
    'refuse %j as a bad variable',
    async (p) => {
      const query = 'query ($p: String) { product(slug: $p) { id } }';
      const res = await transport(server, { query, variables: { p } });
      expectOutcome(res, 'bad variable', JSON.stringify(p));
      expectNoLeak(res.text, ['$gt', '$ne', '$regex', '$where']);
    },
  );
});

describe('after the attacks', () => {
  it('left every product, category, account and order as it was', async () => {
    expect(await snapshot()).toEqual(before);
    const res = await gql(server, '{ products { totalCount } categories { totalCount } }');
    expect(res.body.data).toEqual({ products: { totalCount: 3 }, categories: { totalCount: 3 } });
  });
});

describe('attack strings stored as data', () => {
  it('are kept and returned byte for byte', async () => {
    const title = "Robert'); DROP TABLE product;--";
    const description = ATTACKS.join(' | ');
    const res = await gql(
      server,
      'mutation ($input: ProductCreateInput!) { productCreate(input: $input) { product { id title description } userErrors { code } } }',
      { input: { title, slug: 'bobby-tables', description } },
      bearer(staff),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.productCreate).toMatchObject({ product: { title, description }, userErrors: [] });
    const stored = await server.prisma.product.findUniqueOrThrow({ where: { slug: 'bobby-tables' } });
    expect(stored).toMatchObject({ title, description });
    expect(await server.prisma.product.count()).toBe(4);
  });
});
