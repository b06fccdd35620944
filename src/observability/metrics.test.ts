// The metrics' parts that need no server: bounded labels, the bearer check, route labels, query timing on a pool,
// job queue metrics, and the GraphQL plugin on an Apollo server of its own (tests/metrics.test.ts drives the app).
import { EventEmitter } from 'node:events';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { GraphQLError } from 'graphql';
import type { Pool, PoolClient } from 'pg';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { Context } from '../graphql/context.js';
import { inProcessQueue, type JobQueue } from '../jobs/queue.js';
import { createLogger, type Logger } from '../logger.js';
import { bearerMatches, createMetrics, routeOf, timeQueries } from './metrics.js';
import { BoundedLabel, OperationMetrics, withOperationMetrics } from './metricsPlugin.js';

const silent = createLogger({ LOG_LEVEL: 'silent' });

/** A metric's samples; a histogram's are named metric_bucket, metric_sum and metric_count. */
async function samples(registry: Registry, metric: string) {
  const { values } = await registry.getSingleMetric(metric)!.get();
  return values.map((value) => ({ ...value, name: (value as { metricName?: string }).metricName ?? metric }));
}

/** The sum of a metric's samples named `sample` whose labels include `labels`. */
async function read(registry: Registry, metric: string, labels: Record<string, string> = {}, sample = metric) {
  return (await samples(registry, metric))
    .filter(
      (value) =>
        value.name === sample && Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
    )
    .reduce((sum, value) => sum + value.value, 0);
}

describe('BoundedLabel', () => {
  it('keeps the first values it sees and folds every later one into the overflow value', () => {
    const label = new BoundedLabel(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((value) => label.of(value))).toEqual([
      'a',
      'b',
      'other',
      'a',
      'other',
      'b',
    ]);
    expect([label.has('a'), label.has('c')]).toEqual([true, false]);
  });
});

describe('bearerMatches', () => {
  const token = 'a-metrics-token-of-some-length';
  it.each([
    [`Bearer ${token}`, true],
    [`bearer ${token}`, true],
    [`Bearer  ${token} `, true],
    [`Bearer ${token}x`, false],
    [`Bearer ${token.slice(1)}`, false],
    [`Basic ${token}`, false],
    [token, false],
    ['Bearer ', false],
    [undefined, false],
  ])('%s: %s', (header, expected) => {
    expect(bearerMatches(header, token)).toBe(expected);
  });
});

describe('routeOf', () => {
  it.each([
    [{ baseUrl: '', route: { path: '/healthz' } }, '/healthz'],
    [{ baseUrl: '/api', route: { path: '/items/:id' } }, '/api/items/:id'],
    [{ baseUrl: '/graphql', route: undefined }, '/graphql'],
    [{ baseUrl: '', route: undefined }, 'other'],
  ])('%o: %s', (req, expected) => {
    expect(routeOf(req)).toBe(expected);
  });
});

describe('timeQueries', () => {
  const fakePool = () => new EventEmitter() as unknown as Pool & EventEmitter;
  /** A connection whose queries take 5 ms and fail when their text is "fail", in pg's callback or promise style. */
  const fakeClient = () => {
    const run = (text: string) =>
      new Promise((resolve, reject) =>
        setTimeout(() => (text === 'fail' ? reject(new Error('failed')) : resolve({ rows: [] })), 5),
      );
    return {
      query(text: string, values?: unknown, callback?: (error: unknown, result?: unknown) => void) {
        if (typeof callback !== 'function') return run(text);
        run(text).then(
          (result) => callback(null, result),
          (error) => callback(error),
        );
      },
    } as unknown as PoolClient;
  };

  it('times every statement in either style, and wraps each connection once', async () => {
    const pool = fakePool();
    const observed: [number, boolean][] = [];
    timeQueries(pool, (seconds, failed) => observed.push([seconds, failed]));
    const client = fakeClient();
    pool.emit('acquire', client);
    pool.emit('acquire', client); // handed out again
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    await query('select 1');
    await expect(query('fail')).rejects.toThrow('failed');
    const results = await new Promise((resolve) => query('select 2', undefined, (error: unknown) => resolve(error)));
    expect(results).toBeNull();
    await new Promise((resolve) => query('fail', undefined, resolve));
    expect(observed.map(([, failed]) => failed)).toEqual([false, true, false, true]);
    for (const [seconds] of observed) expect(seconds).toBeGreaterThanOrEqual(0.004);
  });
});

describe('job metrics', () => {
  it('count failed attempts, final failures and the queue by state', async () => {
    let flakyAttempts = 0;
    const jobs = inProcessQueue(
      async (name) => {
        if (name === 'doomed' || (name === 'flaky' && ++flakyAttempts < 3)) throw new Error(`${name} failed`);
      },
      silent,
      1,
    );
    const { registry } = createMetrics({ logger: silent, jobs });
    await jobs.add('flaky', { orderId: '1' }, 'job-1');
    await jobs.add('doomed', { orderId: '2' }, 'job-2');
    await vi.waitFor(async () => expect(await jobs.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 1 }));
    expect(await read(registry, 'jobs_failed_total', { job: 'flaky', final: 'false' })).toBe(2);
    expect(await read(registry, 'jobs_failed_total', { job: 'flaky', final: 'true' })).toBe(0);
    expect(await read(registry, 'jobs_failed_total', { job: 'doomed', final: 'false' })).toBe(4);
    expect(await read(registry, 'jobs_failed_total', { job: 'doomed', final: 'true' })).toBe(1);
    expect(await read(registry, 'jobs_failed', { backend: 'in-process' })).toBe(1);
    expect(await read(registry, 'jobs_active', { backend: 'in-process' })).toBe(0);
    await jobs.close();
  });

  it('leave the queue gauges out of a scrape when the queue does not answer, and warn once', async () => {
    const warn = vi.fn();
    const counts = vi.fn(() => Promise.reject(new Error('Redis is away')));
    const jobs: JobQueue = {
      shared: true,
      counts,
      onFailure: () => {},
      add: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const { registry } = createMetrics({ logger: { warn } as unknown as Logger, jobs });
    const first = await registry.metrics();
    const second = await registry.metrics();
    for (const text of [first, second]) expect(text).not.toMatch(/^jobs_waiting\{/m);
    expect(counts).toHaveBeenCalledTimes(2); // one reading per scrape for the four gauges
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('GraphQL operation metrics', () => {
  const typeDefs = `
    enum CacheControlScope { PUBLIC PRIVATE }
    directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean)
      on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
    type Query {
      cached: String @cacheControl(maxAge: 60)
      live: String
      forbidden: String
      broken: String
    }
  `;
  const resolvers = {
    Query: {
      cached: () => 'cached',
      live: () => 'live',
      forbidden: () => {
        throw new GraphQLError('no', { extensions: { code: 'FORBIDDEN' } });
      },
      broken: () => {
        throw new GraphQLError('database password is hunter2', { extensions: { code: 'SECRET_INTERNAL' } });
      },
    },
  };
  const PUBLIC_CODES = new Set(['FORBIDDEN', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']);
  /** Writes extensions.cost late, as the real plugin does after refunding its bucket. */
  const slowCost: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          if (response.body.kind === 'single') {
            response.body.singleResult.extensions = { cost: { requestedQueryCost: 7, actualQueryCost: 3 } };
          }
        },
      };
    },
  };

  async function server(maxOperationNames = 100) {
    const registry = new Registry();
    const metrics = new OperationMetrics(registry, { maxOperationNames });
    const apollo = new ApolloServer<Context>({
      typeDefs,
      resolvers,
      // Like errors.ts: anything without a public code reaches the client as INTERNAL_SERVER_ERROR.
      formatError: (formatted) =>
        PUBLIC_CODES.has(String(formatted.extensions?.code))
          ? formatted
          : { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      plugins: [withOperationMetrics(metrics, slowCost), responseCachePlugin()],
    });
    await apollo.start();
    const run = (query: string, operationName?: string) =>
      apollo.executeOperation({ query, operationName }, { contextValue: {} as Context });
    return { registry, run };
  }

  it('record duration by name and type, errors by the code sent, and the cost written after them', async () => {
    const { registry, run } = await server();
    await run('query Live { live }');
    await run('query Live { live }');
    await run('{ forbidden }');
    await run('query Nope { nope }', 'Nope'); // a validation error under a name never seen
    await run('query Broken { broken }');
    await run('query Live {', 'Live'); // a parse error under a known name
    const count = (labels: Record<string, string>) =>
      read(registry, 'graphql_operation_duration_seconds', labels, 'graphql_operation_duration_seconds_count');
    expect(await count({ operation_name: 'Live', operation_type: 'query' })).toBe(2);
    expect(await count({ operation_name: 'anonymous', operation_type: 'query' })).toBe(1);
    expect(await count({ operation_name: 'other', operation_type: 'unknown' })).toBe(1);
    expect(await count({ operation_name: 'Live', operation_type: 'unknown' })).toBe(1);
    expect(await count({ operation_name: 'Broken', operation_type: 'query' })).toBe(1);
    expect(await read(registry, 'graphql_errors_total', { code: 'FORBIDDEN' })).toBe(1);
    expect(await read(registry, 'graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(await read(registry, 'graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
    expect(await read(registry, 'graphql_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(1);
    expect(await read(registry, 'graphql_errors_total', { code: 'SECRET_INTERNAL' })).toBe(0);
    expect(await read(registry, 'graphql_errors_total')).toBe(4);
    const cost = (kind: string, sample: string) => read(registry, 'graphql_query_cost', { kind }, sample);
    expect(await cost('requested', 'graphql_query_cost_count')).toBe(6);
    expect(await cost('requested', 'graphql_query_cost_sum')).toBe(42);
    expect(await cost('actual', 'graphql_query_cost_sum')).toBe(18);
  });

  it('count response cache hits and misses of cacheable queries only', async () => {
    const { registry, run } = await server();
    for (let i = 0; i < 3; i++) await run('query Cached { cached }');
    await run('query Live { live }'); // no cache hint: never cacheable
    expect(await read(registry, 'graphql_response_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(await read(registry, 'graphql_response_cache_requests_total', { result: 'hit' })).toBe(2);
  });

  it('keep the first operation names and fold later ones into "other"', async () => {
    const { registry, run } = await server(2);
    for (const name of ['One', 'Two', 'Three', 'One', 'Four']) await run(`query ${name} { live }`);
    await run(`query L${'o'.repeat(100)}ng { live }`);
    const values = await samples(registry, 'graphql_operation_duration_seconds');
    const counts = Object.fromEntries(
      values
        .filter((value) => value.name === 'graphql_operation_duration_seconds_count')
        .map((value) => [String(value.labels.operation_name), value.value] as const),
    );
    expect(counts).toEqual({ One: 2, Two: 1, other: 3 });
  });
});
