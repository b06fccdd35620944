// Two instances of one deployment (two app servers on their own ports, one database, one Redis), as behind a load
// balancer: whatever one instance learns between requests, the other knows too, and when one stops mid-load the
// other keeps serving.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { commerce, dbId } from './support/commerce.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const REDIS_URL = process.env.REDIS_URL;
const ON_SERVER = Boolean(inject('templateDatabaseUrl'));

/** One request on a connection of its own (no keep-alive), so that stopping an instance cannot catch it between
 * requests; `headers` go with it. */
function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let clientCount = 0;
/** A new client address (TEST-NET-2), as the load balancer reports it: each starts with a full rate-limit bucket. */
const newClient = () => ({ 'x-forwarded-for': `198.51.100.${++clientCount}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// CI runs the suite once without REDIS_URL and DATABASE_URL (nothing to share between instances then: each keeps
// its state in process and the embedded database belongs to one process) and once with both.
describe.skipIf(!REDIS_URL || !ON_SERVER)('two instances over one database and one Redis', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let staff: string;
  let aStopped = false;
  const clients: Client[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      REDIS_KEY_PREFIX: `agora-test-${randomUUID()}:`, // one deployment: the same keys in Redis
      TRUST_PROXY: 'loopback', // X-Forwarded-For names the client, as a load balancer would
      RATE_LIMIT_ANONYMOUS: '20/1', // each anonymous request below comes from a client address of its own
    };
    // Started together, as instances behind a load balancer are: both migrate the database at once.
    [a, b] = await Promise.all([startTestServer({ database, env }), startTestServer({ database, env })]);
    await seedStoreSettings(a.prisma);
    staff = await a.tokenFor('STAFF');
  });
  afterAll(async () => {
    await Promise.all(clients.map(async (client) => client.dispose()));
    if (!aStopped) await a?.close();
    await b?.close();
    await database?.drop();
  });

  /** An order a new customer placed through checkout on A with an approved card (OPEN, AUTHORIZED); its global ID.
   * (A customer, not a guest: guests share one address here, and its anonymous rate limit.) */
  const placedOrder = async () => {
    const shop = commerce(a);
    const { token } = await shop.customer();
    const { id } = await shop.authorizedOrder([[await shop.variant(), 1]], token);
    await Promise.all([a.runtime.relay.flush(), b.runtime.relay.flush()]); // the checkout's event is out of the way
    return id;
  };

  const fulfil = (server: TestServer, orderId: string) =>
    server.gql(
      'mutation ($id: ID!) { orderFulfill(input: { orderId: $id, carrier: "DHL", trackingNumber: "JD0001" }) { order { status fulfillmentStatus } fulfillment { id } userErrors { code } } }',
      { id: orderId },
      staff,
    );

  it('delivers an order status change made on B to a subscriber on A', async () => {
    const orderId = await placedOrder();
    const client = createClient({
      url: a.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${staff}` },
      retryAttempts: 0,
    });
    clients.push(client);
    const received: unknown[] = [];
    const stop = client.subscribe(
      {
        query: 'subscription ($id: ID!) { orderStatusChanged(orderId: $id) { id status fulfillmentStatus } }',
        variables: { id: orderId },
      },
      {
        next: (value) => void received.push(value),
        error: (error) => void received.push({ error }),
        complete: () => {},
      },
    );
    await sleep(300); // subscribed on A
    expect((await fulfil(b, orderId)).data.orderFulfill).toMatchObject({
      order: { status: 'OPEN', fulfillmentStatus: 'FULFILLED' },
      userErrors: [],
    });
    for (let i = 0; i < 250 && received.length === 0; i++) await sleep(20);
    await sleep(300); // time for a second push, were there one
    expect(received).toEqual([
      { data: { orderStatusChanged: { id: orderId, status: 'OPEN', fulfillmentStatus: 'FULFILLED' } } },
    ]);
    stop();
  });

  it('queues one email for a shipment, though both instances hear of it', async () => {
    const orderId = await placedOrder();
    const { fulfillment } = (await fulfil(a, orderId)).data.orderFulfill;
    const shipped = await b.gql(
      'mutation ($id: ID!) { fulfillmentMarkShipped(input: { fulfillmentId: $id }) { fulfillment { status } userErrors { code } } }',
      { id: fulfillment.id },
      staff,
    );
    expect(shipped.data.fulfillmentMarkShipped).toEqual({ fulfillment: { status: 'SHIPPED' }, userErrors: [] });
    const order = await a.prisma.order.findUniqueOrThrow({ where: { id: dbId(orderId, 'Order') } });
    const emails = () => a.prisma.outboxEmail.count({ where: { subject: `Order #${order.number} is on its way` } });
    for (let i = 0; i < 250 && (await emails()) === 0; i++) await sleep(20);
    await sleep(500); // time for a second job, were there one
    expect(await emails()).toBe(1);
  });

  it("accepts on B the tokens A issued, and B's refresh on A", async () => {
    const email = `scale-${randomUUID()}@example.test`;
    const signUp = await post(
      a.url,
      {
        query:
          'mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { tokens { accessToken refreshToken } userErrors { code } } }',
        variables: { input: { email, password: 'a long and unusual passphrase', firstName: 'Ada', lastName: 'Scale' } },
      },
      newClient(),
    );
    const { accessToken, refreshToken } = signUp.body.data.customerSignUp.tokens;
    expect((await b.gql('{ viewer { email } }', {}, accessToken)).data).toEqual({ viewer: { email } });
    const refreshed = await post(
      b.url,
      {
        query:
          'mutation ($token: String!) { tokenRefresh(input: { refreshToken: $token }) { tokens { accessToken } userErrors { code } } }',
        variables: { token: refreshToken },
      },
      newClient(),
    );
    const next = refreshed.body.data.tokenRefresh.tokens.accessToken;
    expect((await a.gql('{ viewer { email } }', {}, next)).data).toEqual({ viewer: { email } });
  });

  it('counts failed sign-ins on either instance against the same account', async () => {
    const email = `throttle-${randomUUID()}@example.test`;
    const password = 'a long and unusual passphrase';
    const signUp = 'mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { userErrors { code } } }';
    const input = { email, password, firstName: 'Ada', lastName: 'Throttle' };
    await post(a.url, { query: signUp, variables: { input } }, newClient());
    // Each attempt from an address of its own: only the account's count can add up.
    const logIn = async (server: TestServer, attempt: string) =>
      (
        await post(
          server.url,
          {
            query: 'mutation ($input: LogInInput!) { logIn(input: $input) { userErrors { code } } }',
            variables: { input: { email, password: attempt } },
          },
          newClient(),
        )
      ).body.data.logIn.userErrors;
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await logIn(attempt % 2 ? a : b, `wrong guess ${attempt}`)).toEqual([{ code: 'INVALID_CREDENTIALS' }]);
    }
    expect(await logIn(b, password)).toEqual([{ code: 'TOO_MANY_ATTEMPTS' }]);
  });

  it('shares rate-limit buckets: a client drained on A is throttled on B', async () => {
    const from = newClient();
    const query = { query: '{ products(first: 10) { nodes { id } } }' };
    let last = 0;
    for (let i = 0; i < 30 && last !== 429; i++) last = (await post(a.url, query, from)).status;
    expect(last).toBe(429);
    const onB = await post(b.url, query, from);
    expect(onB.status).toBe(429);
    expect(onB.body.errors[0].extensions.code).toBe('THROTTLED');
    expect((await post(b.url, query, newClient())).status).toBe(200); // other clients are served
  });

  it('finds on B a persisted query registered on A', async () => {
    const query = `{ products(first: 1) { totalCount } } # ${randomUUID()}`;
    const byHash = { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } };
    expect((await post(b.url, byHash, newClient())).body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = (await post(a.url, { query, ...byHash }, newClient())).body.data;
    expect(registered).toEqual({ products: { totalCount: expect.any(Number) } });
    expect((await post(b.url, byHash, newClient())).body.data).toEqual(registered);
  });

  // Last: it stops A, the way a rolling deploy does: the balancer stops sending A new requests (readiness, the
  // deployment's preStop delay), then A gets SIGTERM and drains. Stopping A while connections still arrive resets
  // those queued in its listener, and Apollo's drain ends connections that have not delivered their request yet:
  // one whose request arrives in that instant can run and go unanswered.
  it('keeps serving on B when A stops under load; every request either instance took is answered and kept', async () => {
    const CART =
      'mutation ($email: String!) { cartCreate(input: { email: $email }) { cart { id } userErrors { code } } }';
    let balancerSendsToA = true;
    let loadRunning = true;
    const sent: { email: string; to: 'A' | 'B'; outcome: Promise<string> }[] = [];
    // Four clients, each sending one request after another through a round-robin balancer.
    const client = async (id: number) => {
      for (let i = 0; loadRunning; i++) {
        const to = balancerSendsToA && (i + id) % 2 === 0 ? 'A' : 'B';
        const email = `drill-${id}-${i}-${randomUUID()}@example.test`;
        const outcome = post((to === 'A' ? a : b).url, { query: CART, variables: { email } }, newClient()).then(
          ({ status, body }) => (status === 200 && body.data?.cartCreate.cart ? 'answered' : `HTTP ${status}`),
          (error: NodeJS.ErrnoException) => error.code ?? String(error),
        );
        sent.push({ email, to, outcome });
        await outcome;
      }
    };
    const clients = Promise.all([0, 1, 2, 3].map(client));
    await sleep(500);
    balancerSendsToA = false; // A is taken out of the balancer...
    await sleep(1_000); // ...and gets SIGTERM once the balancer has moved on
    aStopped = true;
    await a.close();
    await sleep(500);
    loadRunning = false;
    await clients;

    const outcomes = await Promise.all(sent.map((request) => request.outcome));
    expect(outcomes.filter((outcome) => outcome !== 'answered')).toEqual([]);
    expect(sent.filter((request) => request.to === 'A').length).toBeGreaterThan(0);
    expect(sent.filter((request) => request.to === 'B').length).toBeGreaterThan(
      sent.filter((r) => r.to === 'A').length,
    );
    const kept = await b.prisma.cart.count({ where: { email: { in: sent.map((request) => request.email) } } });
    expect(kept).toBe(sent.length);
  });
});
