// Flooding: each client (its account when signed in, its address otherwise) draws query-cost points from a leaky
// bucket. An abusive client runs dry and gets 429 with Retry-After, decided without touching the database, while
// other clients keep being served. Buckets here are small (anonymous 50 points, 5 back per second), and the server
// sits behind a trusted proxy on loopback, so X-Forwarded-For names the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import {
  bearer,
  expectNoLeak,
  expectRefused,
  gql,
  seedSmallCatalog,
  sleep,
  startProductionServer,
  withoutQueries,
  type RawResponse,
} from './support.js';
import { overWebSocket } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({
    RATE_LIMIT_ANONYMOUS: '50/5',
    RATE_LIMIT_CUSTOMER: '60/6',
    RATE_LIMIT_STAFF: '200/20',
    TRUST_PROXY: 'loopback',
    WEBSOCKET_OPERATIONS: 'all',
  });
  await seedSmallCatalog(server.prisma);
});
afterAll(() => server?.close());

/** Requested 2 + 10 × 1 = 12; three products come back, so it actually costs 2 + 3 = 5. */
const PRODUCTS = '{ products(first: 10) { nodes { id } } }';

let clients = 0;
/** A new client address (TEST-NET-2), as the trusted proxy would report it. */
const newClient = () => `198.51.100.${++clients}`;
const from = (address: string) => ({ 'x-forwarded-for': address });

const ask = (address: string, query = PRODUCTS) => gql(server, query, undefined, from(address));
const available = (res: RawResponse): number => res.body.extensions.cost.throttleStatus.currentlyAvailable;

/** Points left, give or take what trickled back (5 a second) while the requests ran. */
const expectAvailable = (res: RawResponse, points: number) => {
  expect(available(res)).toBeGreaterThanOrEqual(points);
  expect(available(res)).toBeLessThanOrEqual(points + 2);
};

/** Sends PRODUCTS from `address` until refused (at most `limit` times); returns the answers. */
async function drain(address: string, headers: Record<string, string> = {}, limit = 20): Promise<RawResponse[]> {
  const answers: RawResponse[] = [];
  for (let i = 0; i < limit; i++) {
    const res = await gql(server, PRODUCTS, undefined, { ...from(address), ...headers });
    answers.push(res);
    if (res.status !== 200) break;
  }
  return answers;
}

function expectThrottled(res: RawResponse, capacity: number, restoreRate: number) {
  expect(res.status, res.text).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toEqual([
    {
      message: expect.stringMatching(
        new RegExp(`^Throttled: the query costs 12 and \\d+ points are available\\. Retry in ${retryAfter} s\\.$`),
      ),
      extensions: { code: 'THROTTLED', retryAfterSeconds: retryAfter },
    },
  ]);
  expect(res.body.extensions.cost).toEqual({
    requestedQueryCost: 12,
    actualQueryCost: null,
    throttleStatus: { maximumAvailable: capacity, currentlyAvailable: expect.any(Number), restoreRate },
  });
  expect(available(res)).toBeLessThan(12);
  expectNoLeak(res.text);
  return retryAfter;
}

describe('the bucket', () => {
  it('tells each client where it stands, charging what actually came back', async () => {
    const res = await ask(newClient());
    expect(res.status).toBe(200);
    expect(res.body.extensions.cost).toEqual({
      requestedQueryCost: 12,
      actualQueryCost: 5,
      throttleStatus: { maximumAvailable: 50, currentlyAvailable: expect.any(Number), restoreRate: 5 },
    });
    // 12 taken up front, 7 given back when only three products came.
    expectAvailable(res, 45);
  });

  it('drains by each query and refills at the restore rate', async () => {
    const client = newClient();
    expectAvailable(await ask(client), 45);
    expectAvailable(await ask(client), 40);
    expectAvailable(await ask(client), 35);
    await sleep(1000);
    // five points back in the second; `{ __typename }` costs the minimum of 1
    expectAvailable(await ask(client, '{ __typename }'), 39);
  });

  it('charges an object that was not found as if found', async () => {
    const client = newClient();
    const res = await ask(client, '{ product(slug: "no-such-product") { id title } }');
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 1, actualQueryCost: 1 });
    expectAvailable(res, 49);
  });

  it('refuses a query costlier than the whole bucket before running it, charging 1', async () => {
    const client = newClient();
    const res = await withoutQueries(server, () => ask(client, '{ products(first: 60) { nodes { id } } }'));
    expectRefused(res, {
      status: 400,
      code: 'MAX_COST_EXCEEDED',
      message: "The query's cost of 62 is above the maximum of 50.",
      maximum: 50,
      found: 62,
    });
    expectAvailable(res, 49);
  });
});

describe('an abusive client', () => {
  it('gets 429 with Retry-After, decided without a database query, and is served again after waiting', async () => {
    const abuser = newClient();
    const answers = await drain(abuser);
    const served = answers.filter((res) => res.status === 200).length;
    // 50 points, 12 needed and 5 spent per query: eight, perhaps one more as points trickle back
    expect(served).toBeGreaterThanOrEqual(8);
    expect(served).toBeLessThanOrEqual(10);
    expectThrottled(answers.at(-1)!, 50, 5);

    const again = await withoutQueries(server, () => ask(abuser));
    const retryAfter = expectThrottled(again, 50, 5);
    expect(retryAfter).toBe(1);

    // another client is not affected
    const other = await ask(newClient());
    expect(other.status).toBe(200);
    expectAvailable(other, 45);

    await sleep(retryAfter * 1000 + 100);
    const later = await ask(abuser);
    expect(later.status, later.text).toBe(200);
    expect(later.body.data.products.nodes).toHaveLength(3);
  });

  it('does not keep a well-behaved client from being served while it floods', async () => {
    const attacker = newClient();
    const visitor = newClient();
    const attackStatuses: number[] = [];
    const attackRetryAfter: (string | null)[] = [];
    const visitorAnswers: RawResponse[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const flood = Array.from({ length: 20 }, () => ask(attacker));
      visitorAnswers.push(await ask(visitor, '{ products(first: 3) { nodes { title } } }'));
      for (const res of await Promise.all(flood)) {
        attackStatuses.push(res.status);
        if (res.status === 429) attackRetryAfter.push(res.headers.get('retry-after'));
      }
    }
    expect(attackStatuses).toHaveLength(200);
    expect(new Set(attackStatuses)).toEqual(new Set([200, 429]));
    // 50 points and 5 a second cannot pay for more than a couple of dozen queries in the few seconds this takes
    expect(attackStatuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(150);
    expect(attackRetryAfter.every((value) => Number(value) >= 1)).toBe(true);
    for (const res of visitorAnswers) {
      expect(res.status, res.text).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.products.nodes.map((node: { title: string }) => node.title)).toEqual([
        'Aurora Hoodie',
        'Cedar Candle',
        'Ember Mug',
      ]);
    }
  });
});

describe('signed-in clients', () => {
  it('draw from buckets of their own accounts, sized by role', async () => {
    const [customer, otherCustomer, staff] = await Promise.all([
      server.tokenFor('CUSTOMER'),
      server.tokenFor('CUSTOMER'),
      server.tokenFor('STAFF'),
    ]);
    const address = newClient();
    const answers = await drain(address, bearer(customer));
    expect(answers.filter((res) => res.status === 200).length).toBeGreaterThanOrEqual(10);
    expectThrottled(answers.at(-1)!, 60, 6);

    // the same address, signed in as someone else or not at all, is not throttled
    for (const headers of [bearer(otherCustomer), {}]) {
      const res = await gql(server, PRODUCTS, undefined, { ...from(address), ...headers });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.products.nodes).toHaveLength(3);
    }
    const staffAnswer = await gql(server, PRODUCTS, undefined, { ...from(address), ...bearer(staff) });
    expect(staffAnswer.body.extensions.cost.throttleStatus).toEqual({
      maximumAvailable: 200,
      currentlyAvailable: expect.any(Number),
      restoreRate: 20,
    });
  });
});

describe('over WebSocket', () => {
  it('a signed-in client draws from the same bucket as over HTTP, and is refused there once it is dry', async () => {
    const [customer, otherCustomer] = await Promise.all([server.tokenFor('CUSTOMER'), server.tokenFor('CUSTOMER')]);
    const answers = await drain(newClient(), bearer(customer));
    expectThrottled(answers.at(-1)!, 60, 6);
    const refused = await overWebSocket(server, { query: PRODUCTS }, customer);
    expect(refused.data).toBeUndefined();
    expect(refused.errors, refused.text).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'THROTTLED' }) }),
    ]);
    const other = await overWebSocket(server, { query: PRODUCTS }, otherCustomer);
    expect(other.errors, other.text).toBeUndefined();
    expect(other.extensions?.cost.throttleStatus).toMatchObject({ maximumAvailable: 60, restoreRate: 6 });
  });
});

describe('behind a trusted proxy (TRUST_PROXY=loopback)', () => {
  it('knows the client by the address the proxy appended, not by what the client wrote before it', async () => {
    const client = newClient();
    expectAvailable(await ask(client), 45);
    // the client forged an address of its own; the proxy appended the real one
    expectAvailable(await ask(`203.0.113.66, ${client}`), 40);
    expectAvailable(await ask(`203.0.113.67, 203.0.113.68, ${client}`), 35);
    // the forged address did not get a fresh bucket
    expectAvailable(await ask('203.0.113.66'), 45);
  });
});
