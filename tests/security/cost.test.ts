// Attacks through page sizes and nesting: the calculated cost of a query (scalars 0, objects 1, connections 2 plus
// page size × node cost, mutations 10, @cost/@listSize overrides, a point per input list element) is known before it
// runs, and past MAX_QUERY_COST the query never starts. Page sizes the cost allows but the lists do not are the
// resolvers' BAD_USER_INPUT, still without a database query. What ran is charged with its lists at their actual
// lengths, a miss or a response-cache hit like anything else, and a persisted query's text by its size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/graphql/globalId.js';
import type { TestServer } from '../support/testServer.js';
import { expectRefusedOutcome, TRANSPORTS, type Outcome } from './transports.js';
import {
  bearer,
  expectNoLeak,
  gql,
  post,
  sha256,
  uuid,
  seedSmallCatalog,
  startProductionServer,
  withoutQueries,
  type RawResponse,
} from './support.js';

let server: TestServer;

beforeAll(async () => {
  // Buckets that hardly refill, so that what a request took is exactly what it left; cached catalog responses.
  const slowBucket = '1000000/0.001';
  server = await startProductionServer({
    WEBSOCKET_OPERATIONS: 'all',
    RATE_LIMIT_ANONYMOUS: slowBucket,
    RATE_LIMIT_CUSTOMER: slowBucket,
    RESPONSE_CACHE: 'true',
  });
  await seedSmallCatalog(server.prisma);
});
afterAll(() => server?.close());

const tooCostly = (found: number) => ({
  status: 400,
  code: 'MAX_COST_EXCEEDED',
  message: `The query's cost of ${found} is above the maximum of 1000.`,
  maximum: 1000,
  found,
});

/** A resolver's refusal of an argument: 200 with the field null and one BAD_USER_INPUT error at its path. */
function expectBadArgument(res: Outcome, path: string[], argumentName: string, message: string) {
  if (res.status !== undefined) expect(res.status, res.text).toBe(200);
  expect(res.data).toBeNull();
  expect(res.errors).toEqual([
    { message, locations: expect.any(Array), path, extensions: { code: 'BAD_USER_INPUT', argumentName } },
  ]);
  expectNoLeak(res.text);
}

describe.each(TRANSPORTS)('over %s', (name, transport) => {
  const ask = (query: string, variables?: Record<string, unknown>) => transport(server, { query, variables });
  /** Sends a document as an anonymous client, asserting no SQL was sent meanwhile. */
  const refuse = (query: string, variables?: Record<string, unknown>) =>
    withoutQueries(server, () => ask(query, variables));
  const expectRefused = expectRefusedOutcome;

  describe('huge page sizes', () => {
    it.each([
      ['first', 99999999, '{ products(first: 99999999) { nodes { id } } }', undefined],
      ['last', 99999999, '{ products(last: 99999999) { edges { node { id } } } }', undefined],
      ['first from a variable', 99999999, 'query ($n: Int) { products(first: $n) { nodes { id } } }', { n: 99999999 }],
      [
        'first at the Int maximum',
        2147483647,
        'query ($n: Int) { products(first: $n) { nodes { id } } }',
        { n: 2147483647 },
      ],
    ])('refuses `%s` of %i before running anything', async (_, n, query, variables) => {
      expectRefused(await refuse(query, variables), tooCostly(2 + n));
    });

    it('refuses nested connections, 100 × 100', async () => {
      // categories: 2 + 100 × (Category 1 + products 2 + 100 × Product 1)
      expectRefused(
        await refuse('{ categories(first: 100) { nodes { products(first: 100) { nodes { id } } } } }'),
        tooCostly(10302),
      );
    });

    it.skipIf(name === 'HTTP GET')('refuses 1,001 IDs to nodes(ids:), counted by @listSize', async () => {
      const ids = Array.from({ length: 1001 }, (_, i) =>
        toGlobalId('Product', `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
      );
      expectRefused(await refuse('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids }), tooCostly(1001));
    });

    it('runs a query costing exactly 1,000, and refuses one costing 1,001', async () => {
      const aliases = (last: number) =>
        `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: products(first: ${i === 9 ? last : 98}) { nodes { id } }`).join(' ')} }`;
      const res = await ask(aliases(98));
      expect(res.errors, res.text).toBeUndefined();
      expect(res.extensions?.cost.requestedQueryCost).toBe(1000);
      expectRefused(await refuse(aliases(99)), tooCostly(1001));
    });

    it.skipIf(name === 'HTTP GET')(
      'counts every line sent to cartLinesAdd, refusing 9,000 before anything runs',
      async () => {
        const lines = Array.from({ length: 9000 }, (_, i) => ({
          variantId: toGlobalId('ProductVariant', uuid(100_000 + i)),
          quantity: 1,
        }));
        const query = `mutation ($lines: [CartLineInput!]!) {
      cartLinesAdd(input: { cartId: "x", lines: $lines }) { cart { id } userErrors { code } } }`;
        expectRefused(await refuse(query, { lines }), tooCostly(10 + 9000 + 1));
      },
    );

    it('answers a page size above 100 that costs little with BAD_USER_INPUT', async () => {
      expectBadArgument(
        await refuse('{ products(first: 99999999) { totalCount } }'),
        ['products'],
        'first',
        '`first` is 99999999, above the maximum page size of 100.',
      );
    });

    it.each([
      ['first', '{ products(first: -1) { nodes { id } } }'],
      ['first', '{ products(first: -99999999) { totalCount } }'],
      ['last', '{ products(last: -5) { nodes { id } } }'],
    ])('answers a negative `%s` with BAD_USER_INPUT', async (argument, query) => {
      expectBadArgument(await refuse(query), ['products'], argument, `\`${argument}\` must not be negative.`);
    });

    it('refuses a page size beyond 32 bits while validating', async () => {
      expectRefused(await refuse('{ products(first: 2147483648) { totalCount } }'), {
        status: 400,
        code: 'GRAPHQL_VALIDATION_FAILED',
        message: 'Int cannot represent non 32-bit signed integer value: 2147483648',
      });
    });
  });

  describe('the cost extension', () => {
    it('reports the calculated and the actual cost of what came back', async () => {
      // 2 + 10 × (Product 1 + variants @listSize(assumedSize: 5) × ProductVariant 1); back came 3 products with 3
      // variants between them: 2 + 3 + 3.
      const res = await ask('{ products(first: 10) { nodes { id variants { id } } } }');
      expect(res.errors, res.text).toBeUndefined();
      expect((res.data as { products: { nodes: unknown[] } }).products.nodes).toHaveLength(3);
      expect(res.extensions?.cost).toEqual({
        requestedQueryCost: 62,
        actualQueryCost: 8,
        throttleStatus: { maximumAvailable: 1_000_000, currentlyAvailable: expect.any(Number), restoreRate: 0.001 },
      });
    });

    it.each([
      ['scalars cost nothing', '{ __typename }', 0],
      ['a missing object costs as found', '{ product(slug: "no-such-product") { id title } }', 1],
      ['@cost(weight: 0) types cost nothing: PageInfo', '{ products(first: 50) { pageInfo { hasNextPage } } }', 2],
      [
        '@cost(weight: 0) types cost nothing: Money',
        '{ product(slug: "aurora-hoodie") { priceRange { minVariantPrice { amount } } } }',
        1,
      ],
      ['edges cost their nodes', '{ products(first: 50) { edges { cursor node { id } } } }', 52],
      // GET refuses mutations with 405, for a reason of its own
      ...(name === 'HTTP GET'
        ? []
        : ([
            [
              'a mutation costs 10',
              'mutation { logIn(input: { email: "nobody@example.test", password: "x" }) { userErrors { code } } }',
              10,
            ],
          ] as [string, string, number][])),
    ] as [string, string, number][])('%s', async (_, query, cost) => {
      const res = await ask(query);
      expect(res.errors, res.text).toBeUndefined();
      expect(res.extensions?.cost.requestedQueryCost).toBe(cost);
    });

    // A graphql-ws refusal is an error frame, which carries errors only.
    it.skipIf(name === 'WebSocket')('comes with refusals too, with no actual cost', async () => {
      const res = await refuse('{ products(first: 99999999) { nodes { id } } }');
      expect(res.extensions?.cost).toMatchObject({ requestedQueryCost: 100000001, actualQueryCost: null });
      const parseError = await refuse('{ products(');
      expect(parseError.status).toBe(400);
      expect(parseError.extensions?.cost).toMatchObject({ requestedQueryCost: null, actualQueryCost: null });
    });
  });
});

describe('what a request is charged', () => {
  const available = (res: RawResponse): number => res.body.extensions.cost.throttleStatus.currentlyAvailable;
  /** The points `request` took from its client's bucket: what a probe (1 point) left, less what it left. */
  async function spent(request: () => Promise<RawResponse>, headers: Record<string, string> = {}) {
    const before = available(await gql(server, '{ __typename }', undefined, headers));
    const res = await request();
    expect(res.body.extensions?.cost, res.text).toBeDefined();
    return { res, points: before - available(res) };
  }

  it('charges lists longer than assumed by their length, above the requested cost', async () => {
    // 300 addresses, as an account could hold before the cap of 50
    const { accountId } = await server.sessionFor('CUSTOMER');
    const address = { firstName: 'A', lastName: 'B', line1: 'C', city: 'D', postalCode: '1', countryCode: 'DE' };
    await server.prisma.address.createMany({ data: Array.from({ length: 300 }, () => ({ ...address, accountId })) });
    const auth = bearer(await server.tokenFor('CUSTOMER', { accountId }));
    const { res, points } = await spent(() => gql(server, '{ viewer { addresses { id } } }', undefined, auth), auth);
    expect(res.body.data.viewer.addresses).toHaveLength(300);
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 1 + 50, actualQueryCost: 1 + 300 });
    expect(points).toBe(301);
  });

  it('charges lookups that found nothing what they asked for', async () => {
    const guesses = Array.from(
      { length: 30 },
      (_, i) => `g${i}: orderByNumber(number: ${9000 + i}, email: "guess@example.test") { id lines { id } }`,
    );
    const { res, points } = await spent(() => gql(server, `{ ${guesses.join(' ')} }`));
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 30 * 21, actualQueryCost: 30 * 21 });
    expect(points).toBe(30 * 21);
  });

  it('charges a response-cache hit what the miss that stored it was charged', async () => {
    const query = '{ products(first: 10) { nodes { id } } }';
    const miss = await spent(() => gql(server, query));
    const hit = await spent(() => gql(server, query));
    expect(hit.res.headers.get('age'), 'a hit').not.toBeNull();
    expect(hit.res.body.data).toEqual(miss.res.body.data);
    expect(miss.res.body.extensions.cost).toMatchObject({ requestedQueryCost: 12, actualQueryCost: 2 + 3 });
    expect(hit.res.body.extensions.cost).toMatchObject({ requestedQueryCost: 12, actualQueryCost: 2 + 3 });
    expect([miss.points, hit.points]).toEqual([5, 5]);
  });

  it('charges storing a persisted query a point per KB of its text, and running it by hash as usual', async () => {
    const query = `{ __typename } # ${'x'.repeat(15_000)}`;
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    const stored = await spent(() => post(server, { query, extensions: { persistedQuery } }));
    expect(stored.res.body.data).toEqual({ __typename: 'Query' });
    expect(stored.points).toBe(1 + Math.ceil(query.length / 1024));
    const byHash = await spent(() => post(server, { extensions: { persistedQuery } }));
    expect(byHash.res.body.data).toEqual({ __typename: 'Query' });
    expect(byHash.points).toBe(1);
  });

  it('charges a refused document a point per KB of its text', async () => {
    const query = `{ products( # ${'x'.repeat(15_000)}`;
    const { res, points } = await spent(() => withoutQueries(server, () => gql(server, query)));
    expect(res.status).toBe(400);
    expect(points).toBe(Math.ceil(query.length / 1024));
  });
});
