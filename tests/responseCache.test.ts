// The response cache over HTTP: public catalog reads are served from the shared cache (in Redis when configured)
// without touching the database and carry Cache-Control headers a CDN can honour; viewer-specific and staff
// responses never are; a staff edit is visible to the very next read; stock is at most a few seconds stale, and
// checkout always reads live stock.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STOCK_MAX_AGE } from '../src/cache/responseCache.js';
import { DEFAULT_WAIT_MS } from '../src/cache/singleFlight.js';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { BERLIN } from './support/fixtures.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;
let customer: string;

beforeAll(async () => {
  server = await startTestServer({ env: { RESPONSE_CACHE: 'true' }, countStatements: true });
  await seedStoreSettings(server.prisma);
  staff = await server.tokenFor('STAFF');
  customer = await server.tokenFor('CUSTOMER');
});
afterAll(() => server?.close());

let serial = 0;

/** A product with one variant, written straight to the database (which evicts nothing, like a sale). */
async function makeProduct(stock = 100) {
  const sku = `RC-${randomUUID().slice(0, 8)}-${++serial}`;
  const product = await server.prisma.product.create({
    data: {
      title: `Cached ${sku}`,
      slug: sku.toLowerCase(),
      variants: { create: { sku, title: 'One size', priceAmount: 1500, stockOnHand: stock } },
    },
    include: { variants: true },
  });
  return {
    slug: product.slug,
    id: toGlobalId('Product', product.id),
    variantId: toGlobalId('ProductVariant', product.variants[0]!.id),
  };
}

/** Sends an operation and counts the SQL statements it caused. */
async function measured(query: string, variables?: Record<string, unknown>, token?: string) {
  server.statements!.reset();
  const response = await server.gql(query, variables, token);
  return { response, statements: server.statements!.count() };
}

const cacheControl = (response: GraphQLResponse) => response.headers.get('cache-control');
const servedFromCache = (response: GraphQLResponse) => response.headers.has('age');

const BY_SLUG = 'query BySlug($slug: String!) { product(slug: $slug) { id title variants { sku price { amount } } } }';
const WITH_STOCK = 'query Stock($slug: String!) { product(slug: $slug) { title availableForSale } }';
const PAGE = 'query Page($first: Int!) { products(first: $first) { nodes { title categories { name } } } }';

describe('public catalog reads', () => {
  it('are answered from the cache the second time, without SQL, with a public Cache-Control header', async () => {
    const { slug } = await makeProduct();
    const first = await measured(BY_SLUG, { slug });
    expect(first.response.errors).toBeUndefined();
    expect(first.statements).toBeGreaterThan(0);
    expect(servedFromCache(first.response)).toBe(false);
    expect(cacheControl(first.response)).toBe('max-age=60, public');

    const second = await measured(BY_SLUG, { slug });
    expect(second.statements).toBe(0);
    expect(servedFromCache(second.response)).toBe(true);
    expect(second.response.data).toEqual(first.response.data);
    expect(cacheControl(second.response)).toBe('max-age=60, public');
  });

  it('keys entries by the variables, so another product is a miss', async () => {
    const [a, b] = [await makeProduct(), await makeProduct()];
    await server.gql(BY_SLUG, { slug: a.slug });
    const other = await measured(BY_SLUG, { slug: b.slug });
    expect(other.statements).toBeGreaterThan(0);
    expect(other.response.data.product.id).toBe(b.id);
  });

  it('keep stock-dependent responses for a few seconds only', async () => {
    const { slug } = await makeProduct();
    const res = await server.gql(WITH_STOCK, { slug });
    expect(cacheControl(res)).toBe(`max-age=${STOCK_MAX_AGE}, public`);
    const filtered = await server.gql('{ products(first: 5, filter: { availableForSale: true }) { nodes { title } } }');
    expect(filtered.errors).toBeUndefined();
    expect(cacheControl(filtered)).toBe(`max-age=${STOCK_MAX_AGE}, public`);
  });

  it('are shared with signed-in customers, whose catalog is the same', async () => {
    await makeProduct();
    await server.gql(PAGE, { first: 3 });
    const asCustomer = await server.gql(PAGE, { first: 3 }, customer);
    expect(servedFromCache(asCustomer)).toBe(true);
  });

  it('are never cached when they carry errors', async () => {
    const query = '{ products(first: 1) { nodes { title } } product(id: "not-an-id", slug: "x") { title } }';
    const first = await measured(query);
    expect(first.response.errors?.length).toBeGreaterThan(0);
    const second = await measured(query);
    expect(servedFromCache(second.response)).toBe(false);
    expect(second.statements).toBeGreaterThan(0);
    expect(cacheControl(second.response)).toBe('no-store');
  });
});

describe('concurrent misses of one response', () => {
  const listing = (name: string) =>
    `query ${name}($first: Int!) { products(first: $first) { nodes { id title availableForSale variants { sku price { amount } } } } }`;
  const burst = (count: number, query: string, variables?: Record<string, unknown>) =>
    Promise.all(Array.from({ length: count }, () => server.gql(query, variables)));

  it('are answered by one build, which the others wait for', async () => {
    await makeProduct();
    // The same page under another name: one build's statements.
    const once = await measured(listing('ListingOnce'), { first: 50 });
    expect(once.response.errors).toBeUndefined();
    expect(once.statements).toBeGreaterThan(0);

    server.statements!.reset();
    const answers = await burst(20, listing('ListingBurst'), { first: 50 });
    expect(server.statements!.count()).toBe(once.statements);
    expect(answers.filter(servedFromCache)).toHaveLength(19);
    for (const answer of answers) {
      expect(answer.data).toEqual(once.response.data);
      expect(cacheControl(answer)).toBe(`max-age=${STOCK_MAX_AGE}, public`);
    }
  });

  it('each build for themselves, without waiting out the lease, when the response is not stored', async () => {
    const broken = (name: string) =>
      `query ${name} { products(first: 1) { nodes { title } } product(id: "not-an-id", slug: "x") { title } }`;
    const once = await measured(broken('BrokenOnce'));
    expect(once.response.errors?.length).toBeGreaterThan(0);

    server.statements!.reset();
    const started = performance.now();
    const answers = await burst(5, broken('BrokenBurst'));
    expect(performance.now() - started).toBeLessThan(DEFAULT_WAIT_MS);
    expect(server.statements!.count()).toBe(5 * once.statements);
    for (const answer of answers) {
      expect(answer.errors?.length).toBeGreaterThan(0);
      expect(servedFromCache(answer)).toBe(false);
    }
  });
});

describe('viewer-specific responses', () => {
  it('are never stored and are marked no-store', async () => {
    const query = '{ viewer { email } products(first: 2) { nodes { title } } }';
    await server.gql(query, undefined, customer);
    const again = await server.gql(query, undefined, customer);
    expect(again.errors).toBeUndefined();
    expect(servedFromCache(again)).toBe(false);
    expect(cacheControl(again)).toBe('no-store');
  });

  it("never serve one customer's private data to another", async () => {
    const other = await server.tokenFor('CUSTOMER');
    const query = '{ viewer { id email } }';
    const mine = await server.gql(query, undefined, customer);
    const theirs = await server.gql(query, undefined, other);
    expect(theirs.data.viewer.id).not.toBe(mine.data.viewer.id);
  });

  it('are mutations, which are never cached', async () => {
    const res = await server.gql('mutation { cartCreate(input: {}) { cart { id } } }');
    expect(res.errors).toBeUndefined();
    expect(cacheControl(res)).toBe('no-store');
  });
});

describe('staff', () => {
  it('always read live data, and nothing they read is cacheable downstream', async () => {
    const { slug } = await makeProduct();
    await server.gql(BY_SLUG, { slug });
    for (let i = 0; i < 2; i++) {
      const res = await measured(BY_SLUG, { slug }, staff);
      expect(servedFromCache(res.response)).toBe(false);
      expect(res.statements).toBeGreaterThan(0);
      expect(cacheControl(res.response)).toBe('no-store');
    }
  });

  it('see their edit reflected in the very next public read: the cached entries are evicted', async () => {
    const { slug, id } = await makeProduct();
    await server.gql(BY_SLUG, { slug });
    expect(servedFromCache(await server.gql(BY_SLUG, { slug }))).toBe(true);
    const page = await server.gql(PAGE, { first: 50 });

    const update = await server.gql(
      'mutation ($input: ProductUpdateInput!) { productUpdate(input: $input) { userErrors { code } } }',
      { input: { id, title: 'Renamed by staff' } },
      staff,
    );
    expect(update.data.productUpdate.userErrors).toEqual([]);

    const next = await measured(BY_SLUG, { slug });
    expect(servedFromCache(next.response)).toBe(false);
    expect(next.response.data.product.title).toBe('Renamed by staff');
    const nextPage = await server.gql(PAGE, { first: 50 });
    expect(servedFromCache(nextPage)).toBe(false);
    expect(nextPage.data).not.toEqual(page.data);
  });
});

describe('stock', () => {
  const LINE = 'userErrors { code message }';

  /** A guest cart holding one unit of the variant, ready to check out. */
  async function readyCart(variantId: string): Promise<string> {
    const created = await server.gql(
      `mutation ($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } ${LINE} } }`,
      { input: { lines: [{ variantId, quantity: 1 }], email: `rc-${randomUUID()}@example.test` } },
    );
    expect(created.data.cartCreate.userErrors).toEqual([]);
    const cartId: string = created.data.cartCreate.cart.id;
    await server.gql(
      `mutation ($input: CartBuyerIdentityUpdateInput!) { cartBuyerIdentityUpdate(input: $input) { ${LINE} } }`,
      { input: { cartId, shippingAddress: BERLIN } },
    );
    const method = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
    await server.gql(
      `mutation ($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { ${LINE} } }`,
      { input: { cartId, shippingMethodId: toGlobalId('ShippingMethod', method.id) } },
    );
    return cartId;
  }

  async function checkOut(cartId: string) {
    const res = await server.gql(
      `mutation ($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id } ${LINE} } }`,
      { input: { cartId, payment: { provider: 'sandbox', token: 'tok_visa' }, idempotencyKey: randomUUID() } },
    );
    expect(res.errors).toBeUndefined();
    return res.data.checkoutComplete.userErrors as { code: string }[];
  }

  it(
    'is at most a few seconds stale in cached reads, while checkout always reads it live',
    async () => {
      const { slug, variantId } = await makeProduct(1);
      const [first, second] = [await readyCart(variantId), await readyCart(variantId)];
      expect((await server.gql(WITH_STOCK, { slug })).data.product.availableForSale).toBe(true);

      expect(await checkOut(first)).toEqual([]);
      const stale = await server.gql(WITH_STOCK, { slug });
      expect(servedFromCache(stale)).toBe(true);
      expect(stale.data.product.availableForSale).toBe(true);

      // The cached page still says "available"; checkout does not believe it.
      expect((await checkOut(second)).map((error) => error.code)).toEqual(['INSUFFICIENT_STOCK']);

      await sleep(STOCK_MAX_AGE * 1000 + 200);
      const fresh = await server.gql(WITH_STOCK, { slug });
      expect(servedFromCache(fresh)).toBe(false);
      expect(fresh.data.product.availableForSale).toBe(false);
    },
    (STOCK_MAX_AGE + 15) * 1000,
  );
});
