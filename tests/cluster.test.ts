// WORKERS: the real entry point (src/main.ts) as a cluster of worker processes on one port. The primary prepares
// the database once, shares generated development secrets with its workers, replaces a worker that dies, and on
// SIGTERM has every worker drain before it exits 0.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { restartDelayMs } from '../src/cluster.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';

const root = path.resolve(import.meta.dirname, '..');
const REDIS_URL = process.env.REDIS_URL;
const ON_SERVER = Boolean(inject('templateDatabaseUrl'));

interface LogLine {
  msg?: string;
  worker?: number;
  pid?: number;
  cluster?: string;
}

/** Runs `node --import tsx src/main.ts` (what `npm start` runs, minus prisma generate) with `env` on top of ours. */
function startMain(env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: childEnv });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = (): LogLine[] =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  /** Resolves once `check` finds what it looks for in the output; fails if the process exits first. */
  const waitFor = async <T>(check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));
    for (;;) {
      const found = check();
      if (found) return found;
      if (exitCode !== undefined) throw new Error(`exited with ${exitCode} first:\n${output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, output: () => output, lines, waitFor };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A GraphQL POST on a connection of its own, so the cluster's round robin hands each to the next worker. */
function post(url: string, query: string, variables: unknown = {}, token?: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(JSON.parse(text)));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ query, variables }));
  });
}

describe('WORKERS', () => {
  it('is a number of processes, or auto for one per CPU', () => {
    const base = { DATABASE_URL: 'postgresql://db/agora', REDIS_URL: 'redis://redis:6379' };
    expect(loadConfig({}).WORKERS).toBe(1);
    expect(loadConfig({ ...base, WORKERS: '3' }).WORKERS).toBe(3);
    expect(loadConfig({ ...base, WORKERS: 'auto' }).WORKERS).toBe(availableParallelism());
    expect(() => loadConfig({ ...base, WORKERS: '0' })).toThrow(/WORKERS/);
    expect(() => loadConfig({ ...base, WORKERS: 'many' })).toThrow(/WORKERS/);
  });

  it('backs off replacing workers that keep dying', () => {
    expect([1, 2, 3, 4, 10].map(restartDelayMs)).toEqual([0, 500, 1_000, 2_000, 10_000]);
  });

  it('refuses more than one worker without DATABASE_URL and REDIS_URL, saying why', async () => {
    const main = startMain({ WORKERS: '2', DATABASE_URL: undefined, REDIS_URL: undefined, PORT: '0' });
    expect(await main.exited).toBe(78);
    expect(main.output()).toContain(
      'WORKERS: more than one worker needs DATABASE_URL (the embedded database belongs to a single process)',
    );
    expect(main.output()).toContain('WORKERS: more than one worker needs REDIS_URL');
  }, 60_000);
});

// Workers are processes of their own: they need a database server and Redis to share (CI's second run has both).
describe.skipIf(!REDIS_URL || !ON_SERVER)('WORKERS=2 through src/main.ts (PostgreSQL server and Redis)', () => {
  let database: TestDatabase;
  let main: ReturnType<typeof startMain>;
  let url: string;

  const workersStarted = () => main.lines().filter((line) => line.msg === 'worker started');
  const workersReady = () => main.lines().filter((line) => line.msg === 'Agora is ready' && line.worker);

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    main = startMain({
      WORKERS: '2',
      HOST: '127.0.0.1',
      PORT: String(port), // workers share the primary's listening port, so a fixed one rather than 0
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '3',
      REDIS_URL,
      REDIS_KEY_PREFIX: `agora-test-${randomUUID()}:`,
      LOG_LEVEL: 'info',
      SEED_DEMO_CATALOG: 'false',
      // Development secrets: each process would generate its own; the primary must hand its workers the same.
      NODE_ENV: 'development',
      JWT_SECRET: undefined,
      PAYMENT_WEBHOOK_SECRET: undefined,
    });
    url = await main.waitFor(() => /Agora GraphQL API: (\S+) \(2 workers\)/.exec(main.output())?.[1]);
  }, 120_000);
  afterAll(async () => {
    if (main?.child.exitCode === null) main.child.kill('SIGKILL');
    for (const { pid } of workersStarted()) if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    await database?.drop();
  });

  it('serves one port from two workers, each accepting tokens the other signed', async () => {
    expect(workersStarted()).toHaveLength(2);
    const email = `cluster-${randomUUID()}@example.test`;
    const signUp = await post(
      url,
      'mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { tokens { accessToken } } }',
      { input: { email, password: 'a long and unusual passphrase', firstName: 'Ada', lastName: 'Cluster' } },
    );
    const token: string = signUp.data.customerSignUp.tokens.accessToken;
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(url, '{ viewer { email } }', {}, token)));
    expect(answers.map((answer) => answer.data)).toEqual(Array(8).fill({ viewer: { email } }));
    // Both workers answered some of them: each request's log line names its worker (and reaches us a little later,
    // through the primary's stdout).
    const servedBy = () =>
      new Set(
        main
          .lines()
          .filter((line) => line.msg === 'request completed')
          .map((line) => line.worker),
      );
    await main.waitFor(() => servedBy().size === 2, 5_000);
    expect([...servedBy()].sort()).toEqual([1, 2]);
  });

  it('replaces a worker that dies', async () => {
    const [victim] = workersStarted();
    process.kill(victim!.pid!, 'SIGKILL');
    await main.waitFor(() => main.lines().some((line) => line.msg === 'worker exited; replacing it'));
    const replacement = await main.waitFor(() => workersStarted()[2]);
    expect(replacement.pid).not.toBe(victim!.pid);
    await main.waitFor(() => workersReady().some((line) => line.worker === replacement.worker));
    expect(isAlive(victim!.pid!)).toBe(false);
    const answers = await Promise.all(Array.from({ length: 4 }, () => post(url, '{ viewer { email } }')));
    expect(answers.map((answer) => answer.data)).toEqual(Array(4).fill({ viewer: null }));
  }, 60_000);

  it('stops every process on SIGTERM, each worker draining first, and exits 0', async () => {
    const pids = workersStarted().map((line) => line.pid!);
    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(main.lines().filter((line) => line.msg === 'shutting down').length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

// Needs no Redis (that is the point) and could run on the embedded database too, but starting seven workers takes
// 20-50 s: once per CI pipeline is enough, in the run with a database server like the other cluster tests.
describe.skipIf(!ON_SERVER)('a restart storm', () => {
  it('gives up and exits 1 when workers keep dying, instead of restarting them forever', async () => {
    const database = await createTestDatabase();
    const deadPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    try {
      // The primary prepares the database and never needs Redis; every worker fails to reach it as it starts.
      const main = startMain({
        WORKERS: '2',
        HOST: '127.0.0.1',
        PORT: String(deadPort),
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: '1',
        REDIS_URL: `redis://127.0.0.1:${deadPort}`,
        REDIS_KEY_PREFIX: `agora-test-${randomUUID()}:`,
        LOG_LEVEL: 'info',
        SEED_DEMO_CATALOG: 'false',
      });
      expect(await main.exited).toBe(1);
      const lines = main.lines();
      // Replaced five times, with growing delays, then the sixth death within a minute ends it.
      expect(lines.filter((line) => line.msg === 'worker exited; replacing it')).toHaveLength(5);
      // Two, five replacements, and maybe not the last (its delay can outlast the sixth death).
      expect(lines.filter((line) => line.msg === 'worker started').length).toBeGreaterThanOrEqual(6);
      expect(lines.some((line) => line.msg === 'workers keep dying; giving up')).toBe(true);
      const pids = lines.filter((line) => line.msg === 'worker started').map((line) => line.pid!);
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      await database.drop();
    }
  }, 120_000);
});
