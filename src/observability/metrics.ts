// Prometheus metrics for the operator, served at GET /metrics: GraphQL operations (metricsPlugin.ts), HTTP requests,
// the database pools and their queries, the job queue, and the process (memory, event-loop lag, GC, handles). Each
// app has a registry of its own; in a cluster each worker's registry is summed by the primary (metricsCluster.ts).
// docs/observability.md lists every metric with its labels.
import cluster from 'node:cluster';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Pool, PoolClient } from 'pg';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type Aggregator,
} from 'prom-client';
import type { JobCounts, JobQueue } from '../jobs/queue.js';
import type { Logger } from '../logger.js';
import { OperationMetrics } from './metricsPlugin.js';

export interface MetricsOptions {
  logger: Logger;
  /** Connection pools by name (primary, replica1, ...): their usage and the duration of every query. */
  pools?: Record<string, Pool>;
  jobs?: JobQueue;
  /** Distinct GraphQL operation names with series of their own (100). */
  maxOperationNames?: number;
}

export interface Metrics {
  registry: Registry;
  /** For createGraphQLServer's `metrics` option. */
  operations: OperationMetrics;
  /** Middleware timing every HTTP request by method, route template and status. */
  http: RequestHandler;
  /**
   * GET /metrics: the registry in Prometheus' text format, behind `Authorization: Bearer <token>` when given one.
   * In production without a token it answers 404: metrics name every operation and route, and a public port is no
   * place for them (the cluster primary's METRICS_PORT is the separate port for tokenless scrapes).
   */
  endpoint(token: string | undefined, production: boolean): RequestHandler;
}

export function createMetrics({ logger, pools = {}, jobs, maxOperationNames }: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'agora' });
  collectDefaultMetrics({ register: registry });
  const operations = new OperationMetrics(registry, { maxOperationNames });
  const http = httpMetrics(registry);
  observePools(registry, pools);
  if (jobs) observeJobs(registry, jobs, logger);
  if (cluster.isWorker) exposeToPrimary(registry);
  return {
    registry,
    operations,
    http,
    endpoint: (token, production) => async (req, res) => {
      if (!token && production) {
        res.status(404).type('text/plain').send('Not Found\n');
        return;
      }
      if (token && !bearerMatches(req.headers.authorization, token)) {
        res.status(401).set('www-authenticate', 'Bearer realm="metrics"').type('text/plain').send('Unauthorized\n');
        return;
      }
      res
        .set('cache-control', 'no-store')
        .type(registry.contentType)
        .send(await registry.metrics());
    },
  };
}

/**
 * In a cluster worker: answer the primary's requests for metrics (metricsCluster.ts) with `registry`; prom-client
 * would send its global registry, which this app does not use. Creating an AggregatorRegistry is what installs the
 * worker's listener for those requests.
 */
function exposeToPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  void new AggregatorRegistry();
}

/** Whether an Authorization header carries `Bearer <token>`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? '';
  // Digests have one length, so neither the comparison nor its failure tells anything about the token's length.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return presented !== '' && timingSafeEqual(digest(presented), digest(token));
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route template that answered a request (`/graphql`, `/webhooks/payments/:provider`), never the raw URL; `other`
 * when none did (404s, and requests refused by an error handler outside their route).
 */
export function routeOf(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const template: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof template === 'string') return `${req.baseUrl}${template}`;
  return req.baseUrl || 'other';
}

function httpMetrics(registry: Registry): RequestHandler {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (req, res, next) => {
    const end = duration.startTimer();
    res.once('finish', () =>
      end({
        method: METHODS.has(req.method) ? req.method : 'other',
        route: routeOf(req),
        status_code: String(res.statusCode),
      }),
    );
    next();
  };
}

function observePools(registry: Registry, pools: Record<string, Pool>): void {
  const entries = Object.entries(pools);
  const gauge = (name: string, help: string, read: (pool: Pool) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [label, pool] of entries) this.set({ pool: label }, read(pool) ?? 0);
      },
    });
  gauge('db_pool_connections', 'Open database connections, in use or idle.', (pool) => pool.totalCount);
  gauge('db_pool_connections_idle', 'Open database connections not in use.', (pool) => pool.idleCount);
  gauge('db_pool_connections_max', 'The most connections the pool opens.', (pool) => pool.options.max);
  gauge('db_pool_waiting_requests', 'Queries and transactions waiting for a connection.', (pool) => pool.waitingCount);
  const duration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Time from sending an SQL statement to its result, by pool and outcome (ok, error).',
    labelNames: ['pool', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  for (const [label, pool] of entries) {
    timeQueries(pool, (seconds, failed) =>
      duration.observe({ pool: label, outcome: failed ? 'error' : 'ok' }, seconds),
    );
  }
}

const TIMED = Symbol('agora.timedQueries');
type AnyQuery = (...args: unknown[]) => unknown;

/**
 * Calls `observe` with the duration of every statement run on `pool`'s connections, whether through `pool.query`
 * (callback style) or a checked-out client (promise style, as in transactions). Each connection's `query` is wrapped
 * the first time the pool hands it out, so connections opened before this call are timed too.
 */
export function timeQueries(pool: Pool, observe: (seconds: number, failed: boolean) => void): void {
  pool.on('acquire', (client) => {
    const timed = client as PoolClient & { [TIMED]?: true };
    if (timed[TIMED]) return;
    timed[TIMED] = true;
    const query = client.query.bind(client) as AnyQuery;
    const wrapped: AnyQuery = (...args) => {
      const started = performance.now();
      const done = (error: unknown) => observe((performance.now() - started) / 1000, Boolean(error));
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        args[args.length - 1] = (error: unknown, result: unknown) => {
          done(error);
          (callback as (error: unknown, result: unknown) => void)(error, result);
        };
        return query(...args);
      }
      const result = query(...args);
      if (result instanceof Promise) result.then(() => done(null), done);
      return result;
    };
    client.query = wrapped as unknown as PoolClient['query'];
  });
}

/** How long a scrape waits for the queue's counts (BullMQ asks Redis, which may be unreachable). */
const JOB_COUNTS_TIMEOUT_MS = 2_000;

function observeJobs(registry: Registry, jobs: JobQueue, logger: Logger): void {
  const backend = jobs.shared ? 'bullmq' : 'in-process';
  // Every instance sees the same BullMQ queue: a cluster's primary takes the largest worker figure, not their sum.
  const aggregator: Aggregator = jobs.shared ? 'max' : 'sum';
  let reading: Promise<JobCounts | null> | null = null;
  let failing = false;
  // The four gauges are collected together in one scrape; they share one reading of the queue.
  const read = () =>
    (reading ??= withTimeout(jobs.counts(), JOB_COUNTS_TIMEOUT_MS)
      .then(
        (counts) => ((failing = false), counts),
        (error: unknown) => {
          if (!failing) logger.warn({ err: error }, 'metrics: job queue counts unavailable');
          failing = true;
          return null;
        },
      )
      .finally(() => (reading = null)));
  const gauge = (state: keyof JobCounts, help: string) =>
    new Gauge({
      name: `jobs_${state}`,
      help,
      labelNames: ['backend'],
      aggregator,
      registers: [registry],
      async collect() {
        const counts = await read();
        // Without a reading the series disappears for this scrape rather than repeat a stale figure.
        if (counts) this.set({ backend }, counts[state]);
        else this.reset();
      },
    });
  gauge('waiting', 'Background jobs waiting to run.');
  gauge('active', 'Background jobs running.');
  gauge('delayed', 'Background jobs waiting to be retried after a failure.');
  gauge('failed', 'Background jobs that failed every attempt (BullMQ keeps the last 1,000).');
  const failures = new Counter({
    name: 'jobs_failed_total',
    help: 'Failed attempts of background jobs by job name; final="true" when no attempt is left.',
    labelNames: ['job', 'final'],
    registers: [registry],
  });
  jobs.onFailure(({ name, final }) => failures.inc({ job: name, final: String(final) }));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
