// GET /metrics over HTTP: what the operator reads in Prometheus. Each test scrapes before and after what it does and
// checks the exact change in the samples: operations by name, error codes as the client saw them, query cost,
// response cache hits and misses, HTTP routes, the database pool and its queries, the job queue and the process.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

const TOKEN = `metrics-${randomUUID()}`;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { METRICS_TOKEN: TOKEN, RESPONSE_CACHE: 'true' } });
});
afterAll(() => server?.close());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text exposition format, samples only. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line) ?? [];
      if (!name || !value) throw new Error(`not a sample: ${line}`);
      const pairs = [...labels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, text]) => [key!, text!]);
      return { name, labels: Object.fromEntries(pairs), value: Number(value) };
    });
}

class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The samples of `name` whose labels include `labels`. */
  series(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  }

  /** Their sum, 0 when there are none. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series(name, labels).reduce((sum, sample) => sum + sample.value, 0);
  }
}

const metricsUrl = (target: TestServer = server) => new URL('/metrics', target.url).toString();

async function scrape(): Promise<Scrape> {
  const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return new Scrape(parse(await response.text()));
}

/** How much each sample named changed while `act` ran. */
async function change(act: () => Promise<unknown>) {
  const before = await scrape();
  await act();
  const after = await scrape();
  return (name: string, labels: Record<string, string> = {}) => after.value(name, labels) - before.value(name, labels);
}

const PRODUCT_LIST = 'query ProductList { products(first: 2) { nodes { title } } }';
const BY_SLUG = 'query BySlug($slug: String!) { product(slug: $slug) { id title } }';
const OPERATION_COUNT = 'graphql_operation_duration_seconds_count';

describe('GET /metrics', () => {
  it("serves the registry in Prometheus' text format, every sample labelled service=agora", async () => {
    const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const samples = parse(await response.text());
    expect(samples.length).toBeGreaterThan(50);
    expect(samples.filter((sample) => sample.labels.service !== 'agora')).toEqual([]);
  });

  it('needs the METRICS_TOKEN as a bearer token when one is configured', async () => {
    const statuses = await Promise.all(
      [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN].map(
        async (authorization) => {
          const response = await fetch(metricsUrl(), { headers: authorization ? { authorization } : {} });
          expect(await response.text()).not.toMatch(/graphql_/);
          return [response.status, response.headers.get('www-authenticate')];
        },
      ),
    );
    expect(statuses).toEqual(Array(5).fill([401, 'Bearer realm="metrics"']));
    const allowed = await fetch(metricsUrl(), { headers: { authorization: `bearer ${TOKEN}` } });
    expect(allowed.status).toBe(200);
  });

  it('answers 404 in production without METRICS_TOKEN, and serves it with one', async () => {
    const closed = await startTestServer({ env: { NODE_ENV: 'production' } });
    const guarded = await startTestServer({ env: { NODE_ENV: 'production', METRICS_TOKEN: TOKEN } });
    try {
      const refused = await fetch(metricsUrl(closed));
      expect(refused.status).toBe(404);
      expect(await refused.text()).not.toMatch(/process_|graphql_/);
      const served = await fetch(metricsUrl(guarded), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(served.status).toBe(200);
    } finally {
      await Promise.all([closed.close(), guarded.close()]);
    }
  });

  it('is open without METRICS_TOKEN outside production', async () => {
    const open = await startTestServer();
    try {
      const response = await fetch(metricsUrl(open));
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^process_resident_memory_bytes\{service="agora"\} \d+/m);
    } finally {
      await open.close();
    }
  });
});

describe('GraphQL operations', () => {
  it('time each operation once under its name and type', async () => {
    const delta = await change(async () => {
      for (let i = 0; i < 3; i++) expect((await server.gql(PRODUCT_LIST)).errors).toBeUndefined();
      expect((await server.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
    });
    const productList = { operation_name: 'ProductList', operation_type: 'query' };
    expect(delta(OPERATION_COUNT, productList)).toBe(3);
    expect(delta('graphql_operation_duration_seconds_bucket', { ...productList, le: '+Inf' })).toBe(3);
    expect(delta('graphql_operation_duration_seconds_sum', productList)).toBeGreaterThan(0);
    expect(delta(OPERATION_COUNT, { operation_name: 'anonymous', operation_type: 'query' })).toBe(1);
    expect(delta(OPERATION_COUNT)).toBe(4);
  });

  it('count errors by the code the client received', async () => {
    const customer = await server.tokenFor('CUSTOMER');
    const responses: GraphQLResponse[] = [];
    const delta = await change(async () => {
      responses.push(
        await server.gql('query Low { lowStockVariants(threshold: 1, first: 1) { totalCount } }', {}, customer),
      );
      responses.push(await server.gql('query Huge { products(first: 101) { nodes { id } } }'));
      const broken = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query Broken {', operationName: 'Broken' }),
      });
      responses.push((await broken.json()) as GraphQLResponse);
    });
    expect(responses.map((response) => response.errors?.map((error) => error.extensions?.code))).toEqual([
      ['FORBIDDEN'],
      ['BAD_USER_INPUT'],
      ['GRAPHQL_PARSE_FAILED'],
    ]);
    expect(delta('graphql_errors_total', { code: 'FORBIDDEN' })).toBe(1);
    expect(delta('graphql_errors_total', { code: 'BAD_USER_INPUT' })).toBe(1);
    expect(delta('graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
    expect(delta('graphql_errors_total')).toBe(3);
    // Refused before it resolved, a name never seen is not trusted with a series.
    expect(delta(OPERATION_COUNT, { operation_name: 'other', operation_type: 'unknown' })).toBe(1);
    expect(delta(OPERATION_COUNT, { operation_name: 'Low', operation_type: 'query' })).toBe(1);
  });

  it('record the requested and actual cost each response reports', async () => {
    const costs: { requestedQueryCost: number; actualQueryCost: number }[] = [];
    const delta = await change(async () => {
      for (const first of [1, 5, 20]) {
        const response = await server.gql('query Page($first: Int!) { products(first: $first) { nodes { title } } }', {
          first,
        });
        costs.push(response.extensions!.cost as (typeof costs)[number]);
      }
    });
    const total = (kind: keyof (typeof costs)[number]) => costs.reduce((sum, cost) => sum + cost[kind], 0);
    expect(total('requestedQueryCost')).toBeGreaterThan(0);
    expect(delta('graphql_query_cost_count', { kind: 'requested' })).toBe(3);
    expect(delta('graphql_query_cost_sum', { kind: 'requested' })).toBe(total('requestedQueryCost'));
    expect(delta('graphql_query_cost_count', { kind: 'actual' })).toBe(3);
    expect(delta('graphql_query_cost_sum', { kind: 'actual' })).toBe(total('actualQueryCost'));
  });

  it('count response cache hits and misses of cacheable queries, and nothing for the others', async () => {
    const product = await server.prisma.product.create({
      data: {
        title: 'Metered',
        slug: `metered-${randomUUID()}`,
        variants: { create: { sku: randomUUID(), title: 'One', priceAmount: 100 } },
      },
    });
    const delta = await change(async () => {
      for (let i = 0; i < 3; i++) await server.gql(BY_SLUG, { slug: product.slug });
      await server.gql('{ __typename }'); // no cache hint: not cacheable
      await server.gql('query Viewer { viewer { id } }'); // private
    });
    expect(delta('graphql_response_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(delta('graphql_response_cache_requests_total', { result: 'hit' })).toBe(2);
    expect((await server.gql(BY_SLUG, { slug: product.slug })).data).toEqual({
      product: { id: toGlobalId('Product', product.id), title: 'Metered' },
    });
  });

  it('fold operation names past the first 100 into "other"', async () => {
    const before = await scrape();
    const named = () => new Set(before.series(OPERATION_COUNT).map((sample) => sample.labels.operation_name));
    const fresh = `Fresh${randomUUID().replaceAll('-', '')}`;
    // Enough new names to fill every free place, then one more.
    const fill = 100 - [...named()].filter((name) => name !== 'anonymous' && name !== 'other').length;
    for (let i = 0; i < fill; i++) await server.gql(`query Filler${i} { __typename }`);
    const delta = await change(() => server.gql(`query ${fresh} { __typename }`));
    const after = await scrape();
    const names = new Set(after.series(OPERATION_COUNT).map((sample) => sample.labels.operation_name));
    names.delete('anonymous');
    names.delete('other');
    expect(names.size).toBe(100);
    expect(names.has(fresh)).toBe(false);
    expect(delta(OPERATION_COUNT, { operation_name: 'other', operation_type: 'query' })).toBe(1);
    // Names that have a series keep it.
    expect((await change(() => server.gql(PRODUCT_LIST)))(OPERATION_COUNT, { operation_name: 'ProductList' })).toBe(1);
  });
});

describe('HTTP requests', () => {
  it('are timed by method, route template and status, never by raw path', async () => {
    const unknown = `/no-such-page-${randomUUID()}`;
    const delta = await change(async () => {
      await server.gql('{ __typename }');
      await fetch(new URL('/healthz', server.url));
      await fetch(new URL(unknown, server.url));
      await fetch(new URL('/webhooks/payments/nowhere', server.url), { method: 'POST', body: '{}' });
    });
    const count = 'http_request_duration_seconds_count';
    expect(delta(count, { method: 'POST', route: '/graphql', status_code: '200' })).toBe(1);
    expect(delta(count, { method: 'GET', route: '/healthz', status_code: '200' })).toBe(1);
    expect(delta(count, { method: 'GET', route: 'other', status_code: '404' })).toBe(1);
    expect(delta(count, { method: 'POST', route: '/webhooks/payments/:provider', status_code: '404' })).toBe(1);
    // The scrape before this one is counted too.
    expect(delta(count, { method: 'GET', route: '/metrics', status_code: '200' })).toBe(1);
    const after = await scrape();
    expect(after.series(count).filter((sample) => sample.labels.route!.includes('no-such-page'))).toEqual([]);
  });
});

describe('the database', () => {
  it("reports the pool's connections and times its queries", async () => {
    // A slug never asked for: no cached response, so the database is asked.
    const delta = await change(() => server.gql(BY_SLUG, { slug: randomUUID() }));
    const now = await scrape();
    const primary = { pool: 'primary' };
    // startTestServer: one connection on the embedded database, five on a server.
    const max = process.env.DATABASE_URL ? 5 : 1;
    expect(now.value('db_pool_connections_max', primary)).toBe(max);
    expect(now.value('db_pool_connections', primary)).toBeGreaterThanOrEqual(1);
    expect(now.value('db_pool_connections', primary)).toBeLessThanOrEqual(max);
    expect(now.value('db_pool_connections_idle', primary)).toBeLessThanOrEqual(
      now.value('db_pool_connections', primary),
    );
    expect(now.series('db_pool_waiting_requests', primary)).toEqual([expect.objectContaining({ value: 0 })]);
    expect(delta('db_query_duration_seconds_count', { ...primary, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(delta('db_query_duration_seconds_sum', { ...primary, outcome: 'ok' })).toBeGreaterThan(0);
  });
});

describe('the job queue and the process', () => {
  it('report queue depth by state, event-loop lag and memory', async () => {
    const now = await scrape();
    const backend = process.env.REDIS_URL ? 'bullmq' : 'in-process';
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      expect(now.series(`jobs_${state}`)).toEqual([
        { name: `jobs_${state}`, labels: { service: 'agora', backend }, value: expect.any(Number) },
      ]);
      expect(now.value(`jobs_${state}`)).toBeGreaterThanOrEqual(0);
    }
    expect(now.value('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(now.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(now.series('nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(now.value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
  });
});

describe('configuration', () => {
  it.each([
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN: at least 16 characters, no spaces'],
    [{ METRICS_TOKEN: 'sixteen chars or more but spaces' }, 'METRICS_TOKEN: at least 16 characters, no spaces'],
    [{ METRICS_PORT: '4000' }, 'METRICS_PORT: must differ from PORT'],
  ])('refuses %o', (env, problem) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(problem);
  });

  it('takes a token and a port of their own, and leaves both unset by default', () => {
    expect(loadConfig({ METRICS_TOKEN: TOKEN, METRICS_PORT: '9464' })).toMatchObject({
      METRICS_TOKEN: TOKEN,
      METRICS_PORT: 9464,
    });
    const defaults = loadConfig({});
    expect([defaults.METRICS_TOKEN, defaults.METRICS_PORT]).toEqual([undefined, undefined]);
  });
});
