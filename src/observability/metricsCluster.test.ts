// A real node:cluster: two workers, each with an app registry of its own (not prom-client's global one), and the
// primary serving their sum over HTTP.
import cluster, { type Worker } from 'node:cluster';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { serveClusterMetrics, type ClusterMetricsServer } from './metricsCluster.js';

const TOKEN = 'cluster-metrics-test-token';
const here = path.dirname(new URL(import.meta.url).pathname);
const moduleUrl = (file: string) => pathToFileURL(path.join(here, file)).href;

/** Each worker counts 10 × its id in its app registry, then says so. */
const WORKER = `
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
const { createMetrics } = await import(${JSON.stringify(moduleUrl('metrics.ts'))});
const { createLogger } = await import(${JSON.stringify(moduleUrl('../logger.ts'))});
const { Counter } = createRequire(${JSON.stringify(moduleUrl('metrics.ts'))})('prom-client');
const metrics = createMetrics({ logger: createLogger({ LOG_LEVEL: 'silent' }) });
new Counter({ name: 'test_worker_units_total', help: 'test', registers: [metrics.registry] }).inc(cluster.worker.id * 10);
process.send('ready');
`;

let directory: string;
let workers: Worker[] = [];
let server: ClusterMetricsServer;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'agora-metrics-'));
  const exec = path.join(directory, 'worker.mts');
  await writeFile(exec, WORKER);
  cluster.setupPrimary({ exec, execArgv: ['--import', 'tsx'] });
  workers = [cluster.fork(), cluster.fork()];
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
  server = await serveClusterMetrics({
    port: 0,
    host: '127.0.0.1',
    token: TOKEN,
    logger: createLogger({ LOG_LEVEL: 'silent' }),
  });
});

afterAll(async () => {
  await server?.close();
  await Promise.all(
    workers.map(
      (worker) => new Promise((resolve) => (worker.isDead() ? resolve(null) : worker.once('exit', resolve).kill())),
    ),
  );
  await rm(directory, { recursive: true, force: true });
});

describe('serveClusterMetrics', () => {
  it("serves the sum of every worker's app registry", async () => {
    const response = await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    const expected = workers.reduce((sum, worker) => sum + worker.id * 10, 0);
    expect(text).toContain(`test_worker_units_total{service="agora"} ${expected}\n`);
    // Both workers' processes, summed under one series.
    expect(text).toMatch(/^process_resident_memory_bytes\{service="agora"\} \d+$/m);
  });

  it('needs the token, and serves nothing but GET /metrics', async () => {
    const unauthorized = await fetch(server.url);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const elsewhere = await fetch(new URL('/other', server.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(elsewhere.status).toBe(404);
  });
});
