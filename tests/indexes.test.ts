// Every filter and sort the API offers is served by an index. On a catalog and store of realistic size, each list
// is requested through the API, the statements the server sends are captured on the wire with their bound values
// (tests/support/statementCounter.ts), and each one is planned again with EXPLAIN (FORMAT JSON) and the same values:
// no plan may read a big table whole (a Seq Scan). Runs on PGlite and on PostgreSQL alike.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/globalId.js';
import type { Execution } from './support/statementCounter.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const PRODUCTS = 20_000;
const ACCOUNTS = 5_000;
const ORDERS = 20_000;

/** Tables of realistic size here, and in a store; `category` (50 rows) and the rest stay small enough to read whole. */
const BIG_TABLES = new Set([
  'product',
  'product_variant',
  'product_category',
  'account',
  'address',
  'order',
  'order_line',
  'audit_log_entry',
  'inventory_change',
]);

/** A UUIDv7-shaped ID for the time `at` (an SQL timestamptz expression), as the application's IDs grow with time. */
const uuid7 = (at: string, seed: string) =>
  `(lpad(to_hex((extract(epoch FROM ${at}) * 1000)::bigint), 12, '0') || '7' || substr(md5(${seed}), 1, 3) || '8' ||
    substr(md5(${seed}), 4, 15))::uuid`;
/** A deterministic pick from `words` for the row numbered `n`. */
const pick = (words: string[], salt: string, n = 'i') =>
  `(ARRAY[${words.map((w) => `'${w}'`).join(',')}])[1 + abs(hashtext('${salt}' || ${n})) % ${words.length}]`;

const ADJECTIVES = ['Classic', 'Essential', 'Everyday', 'Premium', 'Vintage', 'Modern', 'Lightweight', 'Heritage'];
const MATERIALS = ['Cotton', 'Linen', 'Merino', 'Fleece', 'Denim', 'Leather', 'Suede', 'Canvas', 'Ceramic', 'Oak'];
const MORE_MATERIALS = ['Bamboo', 'Aluminum', 'Titanium', 'Nylon', 'Wool'];
const NOUNS = ['T-Shirt', 'Hoodie', 'Jacket', 'Sneaker', 'Boot', 'Sandal', 'Skillet', 'Mug', 'Jar', 'Vase', 'Drive'];
const MORE_NOUNS = ['Headphones', 'Charger', 'Tent', 'Backpack', 'Stove', 'Serum', 'Shampoo', 'Puzzle', 'Notebook'];
const EVEN_MORE_NOUNS = ['Scarf', 'Beanie', 'Kettle', 'Lamp', 'Blanket', 'Pillow', 'Wallet', 'Belt', 'Watch'];
/** Variant v of product i costs this plus v * $3; products numbered 100, 200, ... have no variants. */
const BASE_PRICE = `500 + abs(hashtext('price' || i)) % 40000`;
const USES = ['travel', 'the gym', 'cooking', 'camping', 'the office', 'weekends', 'gifting', 'hiking'];
const STATUSES = [...Array<string>(6).fill('CLOSED'), 'OPEN', 'OPEN', 'OPEN', 'CANCELLED', 'CLOSED'];
const MUTATIONS = ['productCreate', 'productUpdate', 'productVariantUpdate', 'inventoryAdjust', 'inventorySet'];
const MORE_MUTATIONS = [
  'orderFulfill',
  'fulfillmentMarkShipped',
  'fulfillmentMarkDelivered',
  'orderCancel',
  'paymentRefund',
];

/** Set-based, so that it takes seconds even on PGlite. Categories: 5 top-level, 15 below them, 30 leaves below
 * those; each product in one or two leaves; 4 variants per product (none for 1 in 100), about 1 in 6 sold out.
 * Products come with the min_price_amount their variants give them (the price of variant 0), so that the trigger
 * that keeps it finds nothing to rewrite when the variants arrive (it is exercised at the end of this file). */
const SEED = [
  `INSERT INTO category (id, name, slug, parent_id, updated_at)
   SELECT md5('category-' || n)::uuid, 'Category ' || n, 'category-' || n,
     CASE WHEN n <= 5 THEN NULL WHEN n <= 20 THEN md5('category-' || (1 + (n - 6) / 3))::uuid
          ELSE md5('category-' || (6 + (n - 21) / 2))::uuid END, now()
   FROM generate_series(1, 50) n`,
  `INSERT INTO product (id, title, slug, description, created_at, updated_at, min_price_amount)
   SELECT md5('product-' || i)::uuid,
     ${pick(ADJECTIVES, 'adjective')} || ' ' || ${pick([...MATERIALS, ...MORE_MATERIALS], 'material')} || ' ' ||
       ${pick([...NOUNS, ...MORE_NOUNS, ...EVEN_MORE_NOUNS], 'noun')},
     'product-' || i, 'Made to last. Great for ' || ${pick(USES, 'use')} || '.',
     timestamptz '2024-01-01' + i * interval '1 hour', now(),
     CASE WHEN i % 100 <> 0 THEN ${BASE_PRICE} END
   FROM generate_series(1, ${PRODUCTS}) i`,
  `INSERT INTO product_variant (id, product_id, sku, title, price_amount, stock_on_hand, position, updated_at)
   SELECT md5('variant-' || i || '-' || v)::uuid, md5('product-' || i)::uuid, 'SKU-' || i || '-' || v, 'Size ' || v,
     ${BASE_PRICE} + v * 300,
     CASE WHEN abs(hashtext('sold-out' || i)) % 100 < 6 OR abs(hashtext('stock' || i || v)) % 100 < 10 THEN 0
          ELSE 1 + abs(hashtext('units' || i || v)) % 200 END,
     v, now()
   FROM generate_series(1, ${PRODUCTS}) i CROSS JOIN generate_series(0, 3) v
   WHERE i % 100 <> 0`,
  `INSERT INTO product_category (product_id, category_id)
   SELECT md5('product-' || i)::uuid, md5('category-' || (21 + abs(hashtext('leaf' || i)) % 30))::uuid
   FROM generate_series(1, ${PRODUCTS}) i
   UNION
   SELECT md5('product-' || i)::uuid, md5('category-' || (21 + abs(hashtext('second leaf' || i)) % 30))::uuid
   FROM generate_series(1, ${PRODUCTS}) i WHERE i % 4 = 0`,
  // 5 admins and 20 staff among the accounts; one address each.
  `INSERT INTO account (id, email, first_name, last_name, role, created_at, updated_at)
   SELECT ${uuid7('at', "'account-' || i")}, 'account-' || i || '@example.test', 'Ada', 'Lovelace',
     (CASE WHEN i % 1000 = 1 THEN 'ADMIN' WHEN i % 250 = 0 THEN 'STAFF' ELSE 'CUSTOMER' END)::"Role", at, at
   FROM generate_series(1, ${ACCOUNTS}) i, LATERAL (SELECT timestamptz '2024-01-01' + i * interval '3 hours' AS at) t`,
  `INSERT INTO address (id, account_id, first_name, last_name, line1, city, postal_code, country_code, updated_at)
   SELECT md5('address-' || a.id)::uuid, a.id, 'Ada', 'Lovelace', 'Unter den Linden 1', 'Berlin', '10117', 'DE', now()
   FROM account a`,
  // One order in five is a guest's; the newest hundred still await payment.
  `INSERT INTO "order" (id, number, account_id, email, status, financial_status, currency_code, subtotal_amount,
     shipping_amount, tax_amount, total_amount, shipping_address, shipping_method, created_at, updated_at)
   SELECT ${uuid7('at', "'order-' || i")}, 1000 + i, CASE WHEN i % 5 <> 0 THEN a.id END, 'buyer-' || i || '@example.test',
     (CASE WHEN i > ${ORDERS - 100} THEN 'OPEN' ELSE ${pick(STATUSES, 'status')} END)::"OrderStatus",
     (CASE WHEN i > ${ORDERS - 100} THEN 'PENDING' ELSE 'PAID' END)::"FinancialStatus",
     'USD', 5000, 499, 950, 6449, '{}', 'Standard', at, at
   FROM generate_series(1, ${ORDERS}) i
   CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + i * interval '35 minutes' AS at) t
   LEFT JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM account) a ON a.n = 1 + (i * 37) % ${ACCOUNTS}`,
  `SELECT setval('order_number_seq', ${1000 + ORDERS})`,
  `INSERT INTO order_line (id, order_id, sku, product_title, variant_title, unit_price_amount, quantity)
   SELECT md5('line-' || o.id || k)::uuid, o.id, 'SKU-1-' || k, 'Classic Cotton T-Shirt', 'Size ' || k, 2500, 1
   FROM "order" o CROSS JOIN generate_series(1, 2) k`,
  `INSERT INTO audit_log_entry (id, actor_id, actor_role, mutation, target_ids, outcome, error_codes, created_at)
   SELECT ${uuid7('at', "'audit-' || i")}, staff.ids[1 + i % array_length(staff.ids, 1)], 'STAFF',
     CASE WHEN i % 200 = 7 THEN 'staffDisable' ELSE ${pick([...MUTATIONS, ...MORE_MUTATIONS], 'mutation')} END, '{}',
     (CASE WHEN i % 50 = 0 THEN 'FAILED' WHEN i % 25 = 0 THEN 'REJECTED' ELSE 'SUCCEEDED' END)::"AuditOutcome", '{}', at
   FROM generate_series(1, 20000) i
   CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + i * interval '50 minutes' AS at) t
   CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM account WHERE role <> 'CUSTOMER') staff`,
  // The variants of products 1, 11, 21, ... 19991, about 4 changes each.
  `INSERT INTO inventory_change (id, variant_id, reason, before, after, created_at)
   SELECT md5('change-' || i)::uuid, md5('variant-' || (1 + i % 2000 * 10) || '-' || i / 2000 % 4)::uuid,
     'delivery', 0, 10, timestamptz '2024-01-01' + i * interval '20 minutes'
   FROM generate_series(1, 32000) i`,
];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

interface Planned {
  execution: Execution;
  plan: PlanNode;
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

/** The plan as an indented list of nodes, such as `Index Scan using product_price_sort_idx on product`. */
function outline(node: PlanNode, depth = 0): string[] {
  const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  return [
    `${'  '.repeat(depth)}${node['Node Type']}${using}${on}`,
    ...(node.Plans ?? []).flatMap((child) => outline(child, depth + 1)),
  ];
}

/** The big tables a plan reads whole. */
const seqScans = (plan: PlanNode) =>
  [...walk(plan)]
    .filter((node) => node['Node Type'] === 'Seq Scan' && BIG_TABLES.has(node['Relation Name'] ?? ''))
    .map((node) => node['Relation Name']!);

const indexesIn = (plan: PlanNode) => [...walk(plan)].flatMap((node) => node['Index Name'] ?? []);

/** Marks an index in a case's list that must be read as a range with a lower bound (`>=`), not walked to its end. */
const FROM_LOWER_BOUND = ' from a lower bound';
const indexesReadFrom = (plan: PlanNode) =>
  [...walk(plan)].flatMap((node) => (node['Index Name'] && / >= /.test(node['Index Cond'] ?? '') ? node['Index Name'] : [])); // prettier-ignore

const report = (plans: Planned[]) =>
  plans
    .map(({ execution, plan }) => `${execution.sql.replace(/\s+/g, ' ').slice(0, 400)}\n${outline(plan).join('\n')}`)
    .join('\n\n');

let server: TestServer;
let staffToken: string;
let adminToken: string;

/** Plans `execution` as the server ran it: the same text with the same values, bound the same way (as text, with
 * types left for the server to infer, which is how Prisma's pg adapter sends them), so PostgreSQL plans it with the
 * values known, as it did for the server. */
async function explain(client: Pick<TestServer['prisma'], '$queryRawUnsafe'>, execution: Execution) {
  expect(execution.parameterTypes.every((type) => type === 0)).toBe(true);
  expect(execution.parameters.every((value) => !Buffer.isBuffer(value))).toBe(true);
  const [row] = await client.$queryRawUnsafe<{ 'QUERY PLAN': unknown }[]>(
    `EXPLAIN (FORMAT JSON) ${execution.sql}`,
    ...execution.parameters,
  );
  const json = row!['QUERY PLAN'];
  return ((typeof json === 'string' ? JSON.parse(json) : json) as [{ Plan: PlanNode }])[0].Plan;
}

/** Sends one operation and returns its data with the plan of each query it sent. */
async function plansOf(query: string, variables: Record<string, unknown> = {}, token?: string) {
  const counter = server.statements!;
  counter.reset();
  const response = await server.gql(query, variables, token);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  const executions = counter.executions().filter(({ sql }) => /^\s*(SELECT|WITH)\b/i.test(sql));
  const plans: Planned[] = [];
  for (const execution of executions) plans.push({ execution, plan: await explain(server.prisma, execution) });
  return { data: response.data, plans };
}

/** Requests `query` and expects no plan to read a big table whole, and each of `indexes` to be used. */
async function expectIndexed(
  query: string,
  variables: Record<string, unknown>,
  token?: string,
  indexes: string[] = [],
) {
  const { data, plans } = await plansOf(query, variables, token);
  expect(plans.length).toBeGreaterThan(0);
  expect(
    plans.flatMap(({ plan }) => seqScans(plan)),
    report(plans),
  ).toEqual([]);
  const used = new Set(plans.flatMap(({ plan }) => indexesIn(plan)));
  const bounded = new Set(plans.flatMap(({ plan }) => indexesReadFrom(plan)));
  for (const index of indexes) {
    const name = index.replace(FROM_LOWER_BOUND, '');
    expect(index === name ? used : bounded, `${index} in\n${report(plans)}`).toContain(name);
  }
  return data;
}

const PRODUCT_PAGE = `
  query ($first: Int, $after: String, $last: Int, $before: String, $filter: ProductFilter, $sortKey: ProductSortKeys,
         $reverse: Boolean) {
    products(first: $first, after: $after, last: $last, before: $before, filter: $filter, sortKey: $sortKey,
             reverse: $reverse) {
      pageInfo { endCursor startCursor }
      nodes {
        id title availableForSale
        priceRange { minVariantPrice { amount } }
        variants { sku price { amount } }
        categories { name }
      }
    }
  }`;

const PRODUCT_COUNT = `
  query ($filter: ProductFilter) { products(first: 1, filter: $filter) { totalCount } }`;

const CATEGORY_PRODUCTS = `
  query ($slug: String!, $sortKey: ProductSortKeys, $reverse: Boolean, $after: String) {
    category(slug: $slug) {
      name parent { name } children { name }
      products(first: 20, sortKey: $sortKey, reverse: $reverse, after: $after) {
        totalCount pageInfo { endCursor } nodes { title variants { sku } }
      }
    }
  }`;

const categoryId = (n: number) => toGlobalId('Category', md5Uuid(`category-${n}`));

/** md5(text)::uuid, as the seed makes IDs. */
function md5Uuid(text: string): string {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

beforeAll(async () => {
  // Pages with nested lists cost more than a client may ask for, and the seed's bulk statements take longer than a
  // request may: this file looks at plans, not at cost or time.
  server = await startTestServer({
    countStatements: true,
    env: { MAX_QUERY_COST: '100000', STATEMENT_TIMEOUT_MS: '0' },
  });
  for (const statement of SEED) await server.prisma.$executeRawUnsafe(statement);
  // As autovacuum leaves tables in production: visibility map and the GIN pending list merged, and statistics. These
  // come from every row rather than autovacuum's sample of 30,000, which would make some plans vary from run to run.
  await server.prisma.$executeRawUnsafe('VACUUM');
  await server.prisma.$transaction([
    server.prisma.$executeRawUnsafe('SET LOCAL default_statistics_target = 1000'),
    server.prisma.$executeRawUnsafe('ANALYZE'),
  ]);
  staffToken = await server.tokenFor('STAFF');
  adminToken = await server.tokenFor('ADMIN');
});
afterAll(() => server?.close());

/** Each case twice: its first page, then the next one from the first page's cursor. */
async function expectPagesIndexed(
  query: string,
  variables: Record<string, unknown>,
  token: string | undefined,
  indexes: string[],
  connection: (data: any) => { pageInfo: { endCursor: string | null; startCursor?: string | null } },
) {
  const { pageInfo } = connection(await expectIndexed(query, variables, token, indexes));
  const backward = variables.last !== undefined;
  const cursor = backward ? pageInfo.startCursor : pageInfo.endCursor;
  expect(cursor).toEqual(expect.any(String));
  const next = { ...variables, [backward ? 'before' : 'after']: cursor };
  await expectIndexed(query, next, token, indexes);
}

const PRICE_RANGE = { minPrice: '50.00', maxPrice: '120.00' };

describe('products(filter:, sortKey:, reverse:) read indexes, first page and next', () => {
  const cases: [name: string, variables: Record<string, unknown>, indexes: string[]][] = [
    ['CREATED_AT (the default)', { first: 20 }, ['product_created_at_id_idx']],
    ['CREATED_AT reversed, last 20', { last: 20, reverse: true }, ['product_created_at_id_idx']],
    ['TITLE', { first: 20, sortKey: 'TITLE' }, ['product_title_id_idx']],
    ['TITLE reversed', { first: 20, sortKey: 'TITLE', reverse: true }, ['product_title_id_idx']],
    ['PRICE', { first: 20, sortKey: 'PRICE' }, ['product_price_sort_idx']],
    ['PRICE reversed', { first: 20, sortKey: 'PRICE', reverse: true }, ['product_price_sort_idx']],
    ['PRICE, last 20', { last: 20, sortKey: 'PRICE' }, ['product_price_sort_idx']],
    ['query, RELEVANCE', { first: 20, filter: { query: 'cotton hoodie' }, sortKey: 'RELEVANCE' }, []],
    ['query of one common word, RELEVANCE', { first: 20, filter: { query: 'leather' }, sortKey: 'RELEVANCE' }, []],
    ['query, RELEVANCE reversed', { first: 20, filter: { query: 'merino -scarf' }, sortKey: 'RELEVANCE', reverse: true }, []], // prettier-ignore
    ['query, PRICE', { first: 20, filter: { query: 'canvas' }, sortKey: 'PRICE' }, []],
    ['query, TITLE', { first: 20, filter: { query: '"vintage oak"' }, sortKey: 'TITLE' }, []],
    ['price range, PRICE', { first: 20, filter: PRICE_RANGE, sortKey: 'PRICE' }, ['product_price_sort_idx']],
    ['price facet, CREATED_AT', { first: 20, filter: { minPrice: '200.00', maxPrice: '300.00' } }, []],
    ['minPrice only, TITLE', { first: 20, filter: { minPrice: '250.00' }, sortKey: 'TITLE' }, []],
    ['maxPrice only, PRICE reversed', { first: 20, filter: { maxPrice: '25.00' }, sortKey: 'PRICE', reverse: true }, []], // prettier-ignore
    ['availableForSale, PRICE', { first: 20, filter: { availableForSale: true }, sortKey: 'PRICE' }, []],
    ['not availableForSale, CREATED_AT', { first: 20, filter: { availableForSale: false } }, []],
    [
      'price range and availableForSale, PRICE',
      { first: 20, filter: { ...PRICE_RANGE, availableForSale: true }, sortKey: 'PRICE' },
      ['product_price_sort_idx'],
    ],
    [
      'top-level category, price range and availableForSale, PRICE',
      { first: 20, filter: { categoryId: categoryId(1), ...PRICE_RANGE, availableForSale: true }, sortKey: 'PRICE' },
      ['product_category_category_id_product_id_idx'],
    ],
    [
      'top-level category, price range and availableForSale, PRICE reversed',
      { first: 20, filter: { categoryId: categoryId(2), ...PRICE_RANGE, availableForSale: true }, sortKey: 'PRICE', reverse: true }, // prettier-ignore
      [],
    ],
    ['leaf category, TITLE', { first: 20, filter: { categoryId: categoryId(30) }, sortKey: 'TITLE' }, []],
    ['middle category, CREATED_AT, last 20', { last: 20, filter: { categoryId: categoryId(7) } }, []],
    [
      'category and query, RELEVANCE',
      { first: 20, filter: { categoryId: categoryId(3), query: 'wool' }, sortKey: 'RELEVANCE' },
      [],
    ],
  ];

  it.each(cases)('%s', async (_, variables, indexes) => {
    await expectPagesIndexed(PRODUCT_PAGE, variables, undefined, indexes, (data) => data.products);
  });
});

describe('products totalCount reads indexes for selective filters', () => {
  // A count of (nearly) the whole catalog reads it whole by nature; these narrow it down.
  const cases: [name: string, filter: Record<string, unknown>][] = [
    ['query', { query: 'cotton hoodie' }],
    ['price range', { minPrice: '400.00', maxPrice: '410.00' }],
    ['not availableForSale', { availableForSale: false }],
    ['leaf category', { categoryId: categoryId(40) }],
    ['top-level category, price range and availableForSale', { categoryId: categoryId(4), ...PRICE_RANGE, availableForSale: true }], // prettier-ignore
  ];

  it.each(cases)('%s', async (_, filter) => {
    await expectIndexed(PRODUCT_COUNT, { filter });
  });
});

describe('Category.products, categories and single lookups read indexes', () => {
  it.each([
    ['CREATED_AT', 'category-2', {}],
    ['PRICE', 'category-8', { sortKey: 'PRICE' }],
    ['TITLE reversed', 'category-25', { sortKey: 'TITLE', reverse: true }],
  ])('category(slug:) { products } by %s, first page and next', async (_, slug, variables) => {
    await expectPagesIndexed(CATEGORY_PRODUCTS, { slug, ...variables }, undefined, [], (data) => ({
      pageInfo: data.category.products.pageInfo,
    }));
  });

  it('categories(first:), categories(topLevel:) and categories(parentId:), with their children', async () => {
    const query = `query ($parentId: ID, $topLevel: Boolean, $after: String) {
      categories(first: 10, parentId: $parentId, topLevel: $topLevel, after: $after) {
        totalCount pageInfo { endCursor } nodes { name children { name } }
      }
    }`;
    const connection = (data: any) => data.categories;
    await expectPagesIndexed(query, {}, undefined, [], connection);
    await expectPagesIndexed(query, { topLevel: true }, undefined, [], connection);
    await expectIndexed(query, { parentId: categoryId(1) });
  });

  it('product(slug:), product(id:) and nodes(ids:) with their variants and categories', async () => {
    const fields = 'title variants { sku } categories { name }';
    await expectIndexed(`{ product(slug: "product-4242") { ${fields} } }`, {}, undefined, ['product_slug_key']);
    const id = toGlobalId('Product', md5Uuid('product-4243'));
    await expectIndexed(`{ product(id: "${id}") { ${fields} } }`, {}, undefined, ['product_pkey']);
    const ids = [4244, 4245, 4246].map((n) => toGlobalId('Product', md5Uuid(`product-${n}`)));
    await expectIndexed(`query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Product { ${fields} } } }`, { ids });
  });
});

describe('staff lists read indexes, first page and next', () => {
  const ORDERS_QUERY = `query ($filter: OrderFilter, $first: Int, $after: String, $last: Int, $before: String) {
    orders(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      pageInfo { endCursor startCursor } nodes { number status email lines { sku quantity } }
    }
  }`;

  it.each([
    ['newest first', { first: 20 }, ['order_pkey']],
    ['oldest first (last 20)', { last: 20 }, ['order_pkey']],
    ['status', { first: 20, filter: { status: 'OPEN' } }, ['order_status_id_idx']],
    ['a rare status', { first: 20, filter: { status: 'CANCELLED' } }, ['order_status_id_idx']],
    [
      'a rare financial status',
      { first: 20, filter: { financialStatus: 'PENDING' } },
      ['order_financial_status_id_idx'],
    ],
    // A range of the primary key: the dates also bound the UUIDv7 IDs (src/db/timeOrderedIds.ts). On created_at
    // alone, the planner walks the key from the newest order and reads every newer order before an old month.
    ['createdAfter and createdBefore', { first: 20, filter: { createdAfter: '2024-06-01T00:00:00Z', createdBefore: '2024-07-01T00:00:00Z' } }, [`order_pkey${FROM_LOWER_BOUND}`]], // prettier-ignore
    ['status and createdAfter', { first: 20, filter: { status: 'CANCELLED', createdAfter: '2025-01-01T00:00:00Z' } }, []], // prettier-ignore
  ])('orders(filter:) by %s', async (_, variables, indexes) => {
    await expectPagesIndexed(ORDERS_QUERY, variables, staffToken, indexes, (data) => data.orders);
  });

  it('orders(filter: { customerId })', async () => {
    const customerId = toGlobalId('Account', await busiestCustomer());
    await expectIndexed(ORDERS_QUERY, { first: 20, filter: { customerId } }, staffToken, ['order_account_id_id_idx']);
  });

  it.each([
    ['newest first', {}, ['account_pkey']],
    ['role STAFF', { role: 'STAFF' }, ['account_role_id_idx']],
    ['role CUSTOMER', { role: 'CUSTOMER' }, []],
  ])('accounts by %s, with their addresses', async (_, variables, indexes) => {
    const query = `query ($role: Role, $after: String) {
      accounts(first: 20, role: $role, after: $after) {
        pageInfo { endCursor } nodes { email role addresses { city } defaultAddress { city } }
      }
    }`;
    await expectPagesIndexed(query, variables, staffToken, indexes, (data) => data.accounts);
  });

  it.each([0, 5, 50])('lowStockVariants(threshold: %i) with their products', async (threshold) => {
    const query = `query ($threshold: Int!, $after: String) {
      lowStockVariants(threshold: $threshold, first: 20, after: $after) {
        pageInfo { endCursor } nodes { sku inventory { available } product { title } }
      }
    }`;
    await expectPagesIndexed(query, { threshold }, staffToken, ['product_variant_stock_available_idx'], (data) => data.lowStockVariants); // prettier-ignore
  });

  it('ProductVariant.inventoryHistory', async () => {
    const id = toGlobalId('ProductVariant', md5Uuid('variant-11-1'));
    const query = `query ($id: ID!, $after: String) {
      node(id: $id) { ... on ProductVariant { inventoryHistory(first: 2, after: $after) {
        totalCount pageInfo { endCursor } nodes { reason delta createdAt }
      } } }
    }`;
    await expectPagesIndexed(query, { id }, staffToken, ['inventory_change_variant_id_created_at_id_idx'], (data) => data.node.inventoryHistory); // prettier-ignore
  });

  it.each([
    ['newest first', {}, ['audit_log_entry_pkey']],
    ['mutation', { mutation: 'orderCancel' }, []],
    ['a rare mutation', { mutation: 'staffDisable' }, ['audit_log_entry_mutation_id_idx']],
    ['outcome', { outcome: 'FAILED' }, ['audit_log_entry_outcome_id_idx']],
    ['mutation and outcome', { mutation: 'inventorySet', outcome: 'REJECTED' }, []],
    ['since and until', { since: '2024-03-01T00:00:00Z', until: '2024-04-01T00:00:00Z' }, [`audit_log_entry_pkey${FROM_LOWER_BOUND}`]], // prettier-ignore
  ])('auditLog(filter:) by %s', async (_, filter, indexes) => {
    const query = `query ($filter: AuditLogFilter, $after: String) {
      auditLog(first: 20, filter: $filter, after: $after) {
        pageInfo { endCursor } nodes { mutation outcome actor { email } }
      }
    }`;
    await expectPagesIndexed(query, { filter }, adminToken, indexes, (data) => data.auditLog);
  });

  it('auditLog(filter: { actorId })', async () => {
    const [actor] = await server.prisma.$queryRawUnsafe<{ id: string }[]>(
      `SELECT id FROM account WHERE role = 'STAFF' ORDER BY id LIMIT 1`,
    );
    const query = `query ($filter: AuditLogFilter) { auditLog(first: 20, filter: $filter) { nodes { mutation } } }`;
    const filter = { actorId: toGlobalId('Account', actor!.id) };
    await expectIndexed(query, { filter }, adminToken);
  });
});

describe("a customer's own lists read indexes", () => {
  it('viewer { orders, addresses, defaultAddress, cart } and orderByNumber', async () => {
    const token = await server.tokenFor('CUSTOMER', { accountId: await busiestCustomer() });
    const query = `query ($after: String) { viewer {
      orders(first: 2, after: $after) { pageInfo { endCursor } nodes { number lines { sku } } }
      addresses { city } defaultAddress { city } cart { id }
    } }`;
    await expectPagesIndexed(query, {}, token, ['order_account_id_id_idx'], (data) => data.viewer.orders);
    const tracking = `{ orderByNumber(number: 1500, email: "buyer-500@example.test") { number } }`;
    const { orderByNumber } = await expectIndexed(tracking, {}, undefined, ['order_number_key']);
    expect(orderByNumber).toEqual({ number: 1500 });
  });
});

describe('staff totalCounts read indexes for selective filters', () => {
  it.each([
    ['lowStockVariants(threshold: 0)', `{ lowStockVariants(threshold: 0) { totalCount } }`],
    ['orders by a rare status', `{ orders(filter: { status: CANCELLED }) { totalCount } }`],
    ['orders by a rare financial status', `{ orders(filter: { financialStatus: PENDING }) { totalCount } }`],
    ['orders of a month', `{ orders(filter: { createdAfter: "2024-06-01T00:00:00Z", createdBefore: "2024-07-01T00:00:00Z" }) { totalCount } }`], // prettier-ignore
    ['accounts by role STAFF', `{ accounts(role: STAFF) { totalCount } }`],
    ['auditLog by a rare mutation', `{ auditLog(filter: { mutation: "staffDisable" }) { totalCount } }`],
    ['auditLog by outcome', `{ auditLog(filter: { outcome: FAILED }) { totalCount } }`],
  ])('%s', async (name, query) => {
    await expectIndexed(query, {}, name.startsWith('auditLog') ? adminToken : staffToken);
  });
});

/** The customer with the most orders. */
async function busiestCustomer(): Promise<string> {
  const [row] = await server.prisma.$queryRawUnsafe<{ id: string }[]>(
    `SELECT account_id AS id FROM "order" WHERE account_id IS NOT NULL GROUP BY account_id ORDER BY count(*) DESC, 1 LIMIT 1`,
  );
  return row!.id;
}

describe('the check fails without the index', () => {
  // Plans the same captured statement inside a transaction that drops the index, then rolls it back.
  it.each([
    ['product_price_sort_idx', 'product', PRODUCT_PAGE, { first: 20, sortKey: 'PRICE' }, false],
    ['product_variant_stock_available_idx', 'product_variant', `{ lowStockVariants(threshold: 5) { nodes { sku } } }`, {}, true], // prettier-ignore
  ])('without %s, the page reads %s whole', async (index, table, query, variables, asStaff) => {
    const { plans } = await plansOf(query, variables, asStaff ? staffToken : undefined);
    const page = plans.find(({ plan }) => indexesIn(plan).includes(index));
    expect(page, report(plans)).toBeDefined();
    let withoutIndex: PlanNode | undefined;
    const rollback = new Error('rollback');
    await expect(
      server.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`DROP INDEX "${index}"`);
        withoutIndex = await explain(tx, page!.execution);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(seqScans(withoutIndex!), outline(withoutIndex!).join('\n')).toContain(table);
    expect(seqScans(await explain(server.prisma, page!.execution))).toEqual([]); // the index is back
  });
});

describe('the PRICE sort key follows variant changes', () => {
  it('is the lowest variant price after each create, update and delete, and null without variants', async () => {
    const PRODUCT_CREATE = `mutation ($input: ProductCreateInput!) {
      productCreate(input: $input) { product { id variants { id } } userErrors { message } } }`;
    const VARIANT_CREATE = `mutation ($input: ProductVariantCreateInput!) {
      productVariantCreate(input: $input) { productVariant { id } userErrors { message } } }`;
    const VARIANT_UPDATE = `mutation ($input: ProductVariantUpdateInput!) {
      productVariantUpdate(input: $input) { productVariant { id } userErrors { message } } }`;
    const VARIANT_DELETE = `mutation ($input: ProductVariantDeleteInput!) {
      productVariantDelete(input: $input) { deletedProductVariantId userErrors { message } } }`;
    const gql = async (query: string, input: Record<string, unknown>) => {
      const response = await server.gql(query, { input }, staffToken);
      expect(response.errors).toBeUndefined();
      return Object.values(response.data)[0] as any;
    };
    const created = [];
    for (const [title, prices] of [
      ['Quokka Alpha', ['30.00', '10.00']],
      ['Quokka Beta', ['20.00']],
      ['Quokka Gamma', []],
    ] as const) {
      // prettier-ignore
      const variants = prices.map((price, i) => ({ sku: `${title}-${i}`, price }));
      created.push((await gql(PRODUCT_CREATE, { title, variants })).product);
    }
    const [alpha, beta, gamma] = created;
    const byPrice = async () => {
      const query = `{ products(first: 10, filter: { query: "quokka" }, sortKey: PRICE) {
        nodes { title priceRange { minVariantPrice { amount } } } } }`;
      const { data } = await server.gql(query);
      return data.products.nodes.map((node: any) => [node.title, node.priceRange?.minVariantPrice.amount ?? null]);
    };
    expect(await byPrice()).toEqual([
      ['Quokka Alpha', '10.00'],
      ['Quokka Beta', '20.00'],
      ['Quokka Gamma', null],
    ]);

    await gql(VARIANT_CREATE, { productId: gamma.id, sku: 'gamma-0', price: '5.00' });
    await gql(VARIANT_UPDATE, { id: alpha.variants[1].id, price: '40.00' }); // alpha's cheapest is now 30.00
    expect(await byPrice()).toEqual([
      ['Quokka Gamma', '5.00'],
      ['Quokka Beta', '20.00'],
      ['Quokka Alpha', '30.00'],
    ]);

    await gql(VARIANT_DELETE, { id: beta.variants[0].id });
    await gql(VARIANT_DELETE, { id: alpha.variants[0].id });
    expect(await byPrice()).toEqual([
      ['Quokka Gamma', '5.00'],
      ['Quokka Alpha', '40.00'],
      ['Quokka Beta', null],
    ]);
    const stored = await server.prisma.product.findMany({
      where: { title: { startsWith: 'Quokka' } },
      orderBy: { title: 'asc' },
      select: { minPriceAmount: true },
    });
    expect(stored.map((row) => row.minPriceAmount)).toEqual([4000, null, 500]);
  });
});
