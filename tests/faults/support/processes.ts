// Server processes for the fault tests of issue 11: the real entry point (src/main.ts) in production mode, as
// separate processes of one deployment (one database, one Redis), and a private redis-server to stop and start.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { inject, onTestFailed } from 'vitest';
import { withDatabase } from '../../support/globalSetup.js';
import { freePort, startInstance, type Instance } from '../../support/serverProcess.js';

export { freePort, startInstance, type Instance } from '../../support/serverProcess.js';

export const REDIS_URL = process.env.REDIS_URL ?? '';
/** The template database on a PostgreSQL server; empty on the embedded database (these tests then skip). */
export const TEMPLATE_DATABASE_URL = inject('templateDatabaseUrl') ?? '';
export const ON_SERVER = Boolean(TEMPLATE_DATABASE_URL);
/** An admin connection string (the `postgres` database) for faults aimed at a test database from outside it. */
export const adminDatabaseUrl = () => withDatabase(TEMPLATE_DATABASE_URL, 'postgres');

/** The checkout idempotency lease and how often the recovery worker looks for stale checkouts. */
export const CHECKOUT_LEASE_MS = 3_000;
export const RECOVERY_INTERVAL_MS = 500;
/** The server's limit per operation (its default); no answer may take much longer. */
export const OPERATION_TIMEOUT_MS = 10_000;
/** What a client waits for one answer before it gives the request up. */
export const CLIENT_TIMEOUT_MS = 15_000;

const UNTHROTTLED = '1000000000/1000000000';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something truthy, or gives up after `timeoutMs` and returns the last value. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await sleep(everyMs);
  }
}

/** A generated secret, as production demands (no placeholder words, at least 12 distinct characters). */
const generatedSecret = () => randomBytes(32).toString('hex');

// ---------------------------------------------------------------------------------------------------------------
// Server processes

/** The environment of one deployment: what every instance of it shares (database, Redis and its key prefix,
 * secrets), in production mode, unthrottled, with the short checkout lease and fast background loops. */
export function deploymentEnv(
  databaseUrl: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    WORKERS: '1',
    DATABASE_URL: databaseUrl,
    DATABASE_REPLICA_URLS: '',
    REDIS_URL,
    REDIS_KEY_PREFIX: `agora-faults-${randomUUID()}:`,
    JWT_SECRET: generatedSecret(),
    PAYMENT_WEBHOOK_SECRET: generatedSecret(),
    SEED_DEMO_CATALOG: 'false',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_ANONYMOUS: UNTHROTTLED,
    RATE_LIMIT_CUSTOMER: UNTHROTTLED,
    RATE_LIMIT_STAFF: UNTHROTTLED,
    SIGN_UP_LIMIT: '1000000/3600',
    RESPONSE_CACHE: 'false',
    TRUST_PROXY: 'false',
    OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
    CHECKOUT_LEASE_MS: String(CHECKOUT_LEASE_MS),
    RECOVERY_INTERVAL_MS: String(RECOVERY_INTERVAL_MS),
    OUTBOX_RELAY_INTERVAL_MS: '200',
    MAILER_INTERVAL_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Nothing of the developer's machine leaks in: no mail server, no tracing exporter, no first admin.
    SMTP_URL: undefined,
    OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
    OTEL_TRACES_EXPORTER: undefined,
    ADMIN_EMAIL: undefined,
    ADMIN_PASSWORD: undefined,
    METRICS_PORT: undefined,
    ...overrides,
  };
}

/** Instances of one deployment, started together (as behind a load balancer) and ready. */
export async function startInstances(
  env: Record<string, string | undefined>,
  names: string[] = ['A', 'B'],
): Promise<Instance[]> {
  const instances = await Promise.all(names.map((name) => startInstance(name, env)));
  try {
    await Promise.all(instances.map((instance) => instance.waitUntilReady()));
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.stop(1_000)));
    throw error;
  }
  return instances;
}

/** When the calling test fails, prints the end of each instance's output (warnings and errors only, LOG_LEVEL=warn). */
export function printOutputOnFailure(instances: () => Instance[]) {
  onTestFailed(() => {
    for (const instance of instances()) {
      const state = instance.exited ? `exited ${instance.exitCode ?? instance.exitSignal}` : 'running';
      console.log(`── instance ${instance.name} (${state}), last output:\n${instance.output().slice(-4_000)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// A private Redis

export const redisServerInstalled = () => spawnSync('redis-server', ['--version']).status === 0;

export interface RedisServer {
  port: number;
  url: string;
  readonly running: boolean;
  /** Kills it at once (SIGKILL): nothing flushed, every connection dropped. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  start(): Promise<void>;
}

/** redis-server on a free port of its own, so that stopping it disturbs nobody else's Redis. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    let output = '';
    const proc = spawn('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!output.includes('Ready to accept connections')) {
      if (proc.exitCode !== null || proc.signalCode) throw new Error(`redis-server exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server not ready:\n${output}`);
      await sleep(20);
    }
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode) return;
      child.kill('SIGKILL');
      await exited;
    },
    start,
  };
}
