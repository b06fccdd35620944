// The heaviest read one customer can build under the limits (the most addresses an account keeps, read through as
// many aliases as the cost allows) repeated, some at once, against the real server in a process of its own with a
// 224 MB heap: it stays up and its heap stays under the cap. Before the caps, 300 addresses read through 30 aliases
// in one 301-point query ran such a process out of heap.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startInstance, type Instance } from '../support/serverProcess.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { TEST_SECRET, TEST_WEBHOOK_SECRET } from '../support/testServer.js';

const HEAP_CAP_MB = 224;
const UNTHROTTLED = '1000000000/1000000000';
const MAX_ADDRESSES = 50;
const MAX_COST = 1000;

let database: TestDatabase;
let server: Instance;
let auth: Record<string, string>;

async function send(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** The server's heap in use, in MB, from its Prometheus metrics. */
async function heapUsedMb(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes'));
  if (!line) throw new Error(`no heap metric in:\n${text.slice(0, 500)}`);
  return Number(line.split(' ')[1]) / 1024 / 1024;
}

const ADDRESS = {
  firstName: 'Ada',
  lastName: 'Lovelace',
  line1: 'St James Square 12',
  city: 'London',
  postalCode: 'SW1Y 4JH',
  countryCode: 'GB',
};
const ADDRESS_FIELDS = 'id firstName lastName company line1 line2 city province postalCode countryCode phone';
/** `viewer` (1) and `aliases` readings of every address (50 each). */
const heaviest = (aliases: number) =>
  `{ viewer { ${Array.from({ length: aliases }, (_, i) => `a${i}: addresses { ${ADDRESS_FIELDS} }`).join(' ')} } }`;
const MOST_ALIASES = Math.floor((MAX_COST - 1) / MAX_ADDRESSES);

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startInstance('memory', {
    NODE_ENV: 'test',
    NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}`,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: database.embedded ? '1' : '5',
    REDIS_URL: undefined,
    JWT_SECRET: TEST_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    SEED_DEMO_CATALOG: 'false',
    // Many customers at once: no bucket holds the repetitions back, only the per-query limits.
    RATE_LIMIT_ANONYMOUS: UNTHROTTLED,
    RATE_LIMIT_CUSTOMER: UNTHROTTLED,
    SIGN_UP_LIMIT: '1000000/3600',
    RESPONSE_CACHE: 'false',
    METRICS_TOKEN: undefined,
    METRICS_PORT: undefined,
    MAX_QUERY_COST: String(MAX_COST),
    MAX_ALIASES: '30',
  });
  await server.waitUntilReady();
  const signUp = await send({
    query: `mutation ($input: CustomerSignUpInput!) {
      customerSignUp(input: $input) { tokens { accessToken } userErrors { code } } }`,
    variables: {
      input: { email: 'heavy@example.test', password: 'a long enough passphrase', firstName: 'H', lastName: 'Eavy' },
    },
  });
  auth = { authorization: `Bearer ${signUp.body.data.customerSignUp.tokens.accessToken}` };
  const create = `mutation ($input: CustomerAddressCreateInput!) {
    customerAddressCreate(input: $input) { address { id } userErrors { code } } }`;
  for (let i = 0; i < MAX_ADDRESSES + 1; i++) {
    const res = await send(
      { query: create, variables: { input: { address: { ...ADDRESS, company: `Firm ${i}` } } } },
      auth,
    );
    const { userErrors } = res.body.data.customerAddressCreate;
    expect(userErrors).toEqual(i < MAX_ADDRESSES ? [] : [{ code: 'LIMIT_REACHED' }]);
  }
}, 60_000);

afterAll(async () => {
  await server?.stop(2_000);
  await database?.drop();
});

describe(`a server with a ${HEAP_CAP_MB} MB heap`, () => {
  it('refuses the reported attack, 30 aliases of every address, as too costly', async () => {
    const res = await send({ query: heaviest(30) }, auth);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'MAX_COST_EXCEEDED', found: 1 + 30 * MAX_ADDRESSES });
  });

  it('stays up, under its heap cap, through the heaviest query a customer can send, repeated', async () => {
    onTestFailed(() => console.log(`server output:\n${server.output().slice(-4_000)}`));
    const query = heaviest(MOST_ALIASES);
    // The heap, sampled while the queries run.
    const heaps: number[] = [];
    let running = true;
    const sampling = (async () => {
      while (running) {
        heaps.push(await heapUsedMb());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => send({ query }, auth)));
      for (const res of results) {
        expect(res.status).toBe(200);
        expect(res.body.errors).toBeUndefined();
        expect(res.body.extensions.cost.requestedQueryCost).toBe(1 + MOST_ALIASES * MAX_ADDRESSES);
        expect(res.body.data.viewer[`a${MOST_ALIASES - 1}`]).toHaveLength(MAX_ADDRESSES);
      }
    }
    running = false;
    await sampling;
    expect(server.exited).toBe(false);
    expect(heaps.length).toBeGreaterThan(5);
    expect(Math.max(...heaps), `heap in MB, sampled: ${heaps.map(Math.round).join(' ')}`).toBeLessThan(HEAP_CAP_MB);
  }, 60_000);
});
