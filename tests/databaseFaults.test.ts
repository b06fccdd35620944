// When the database blinks (issue 11): its connections terminated under load, refused, or left unanswered for a
// while. The instance never dies, each request caught in the blink gets a clear INTERNAL_SERVER_ERROR, and once the
// database is back the instance serves again without a restart. The server runs in a process of its own (what
// `npm start` runs), so that an unhandled 'error' event would end that process where the test can see it.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from './support/globalSetup.js';
import { startInstance, type Instance } from './support/serverProcess.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { TEST_SECRET, TEST_WEBHOOK_SECRET } from './support/testServer.js';

const ON_SERVER = Boolean(inject('templateDatabaseUrl'));
const UNTHROTTLED = '1000000000/1000000000';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP proxy in front of the database that can stop passing bytes (a network that drops everything, without
 * closing anything) and start again, delivering what it held. */
async function startProxy(target: URL) {
  let frozen = false;
  let held: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const pass = (action: () => void) => (frozen ? held.push(action) : action());
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => pass(() => to.write(chunk)));
    from.on('end', () => pass(() => to.end()));
    from.on('error', () => to.destroy());
    from.on('close', () => pass(() => to.destroy()));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      const actions = held;
      held = [];
      for (const action of actions) action();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The JSON log lines in a process's output. */
const logLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level?: number; msg?: string });

type Outcome =
  { kind: 'ok' } | { kind: 'graphql-errors'; status: number; codes: string[] } | { kind: 'other'; detail: string };

const CATALOG_READ = '{ products(first: 10) { totalCount nodes { title variants { sku price { amount } } } } }';
const SIGN_UP = `mutation ($input: CustomerSignUpInput!) {
  customerSignUp(input: $input) { account { email } userErrors { code } }
}`;

describe.skipIf(!ON_SERVER)('when the database blinks (PostgreSQL server)', () => {
  let database: TestDatabase;
  let databaseName: string;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let main: Instance;
  let url: string;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    databaseName = new URL(database.url).pathname.slice(1);
    admin = new pg.Client({ connectionString: withDatabase(database.url, 'postgres') });
    await admin.connect();
    proxy = await startProxy(new URL(database.url));
    main = await startInstance('server', {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: proxy.url,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: undefined,
      JWT_SECRET: TEST_SECRET,
      PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      SEED_DEMO_CATALOG: 'true',
      RATE_LIMIT_ANONYMOUS: UNTHROTTLED,
      RATE_LIMIT_CUSTOMER: UNTHROTTLED,
      RATE_LIMIT_STAFF: UNTHROTTLED,
      SIGN_UP_LIMIT: '1000000/3600',
      RESPONSE_CACHE: 'false',
    });
    await main.waitUntilReady();
    url = main.url;
  }, 60_000);
  afterAll(async () => {
    proxy?.thaw();
    await admin?.query(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    main?.kill('SIGKILL');
    await proxy?.close();
    await admin?.end();
    await database?.drop();
  });

  /** Ends every connection the server has open to its database, as an operator's pg_terminate_backend does. */
  const terminateBackends = async () =>
    (
      await admin.query<{ terminated: boolean }>(
        'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1',
        [databaseName],
      )
    ).rows.filter((row) => row.terminated).length;

  async function send(query: string, variables: Record<string, unknown> = {}): Promise<Outcome> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
      if (body.errors?.length) {
        return {
          kind: 'graphql-errors',
          status: response.status,
          codes: body.errors.map((e) => e.extensions?.code ?? ''),
        };
      }
      const userErrors = body.data?.customerSignUp?.userErrors ?? [];
      if (response.status !== 200 || !body.data || userErrors.length) {
        return { kind: 'other', detail: `${response.status} ${JSON.stringify(body)}` };
      }
      return { kind: 'ok' };
    } catch (error) {
      return { kind: 'other', detail: String(error) };
    }
  }
  const catalogRead = () => send(CATALOG_READ);
  const signUp = () =>
    send(SIGN_UP, {
      input: {
        email: `blink-${randomUUID()}@example.test`,
        password: 'a long and unusual passphrase',
        firstName: 'Ada',
        lastName: 'Blink',
      },
    });
  const readyz = async () => {
    const started = performance.now();
    const response = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, ms: performance.now() - started };
  };
  /** Runs `attempt` until it is true, for up to `ms`. */
  const eventually = async (attempt: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await attempt())) {
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
    return true;
  };
  const serverAlive = () => !main.exited;

  it('keeps serving while its connections are terminated under load, failing only the requests caught in it', async () => {
    expect(await catalogRead()).toEqual({ kind: 'ok' });
    const outcomes: Outcome[] = [];
    let loading = true;
    const worker = async (read: boolean) => {
      while (loading && serverAlive()) outcomes.push(await (read ? catalogRead() : signUp()));
    };
    const workers = Array.from({ length: 8 }, (_, i) => worker(i % 2 === 0));

    await sleep(200);
    let terminated = 0;
    const faultsEnd = Date.now() + 3_000;
    while (Date.now() < faultsEnd && serverAlive()) {
      terminated += await terminateBackends();
      await sleep(250);
    }
    loading = false;
    await Promise.all(workers);

    expect(main.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
    expect(serverAlive()).toBe(true);
    expect(terminated).toBeGreaterThan(0);
    const failures = outcomes.filter((outcome) => outcome.kind !== 'ok');
    // Every request caught in a blink says so plainly: an internal error, never an answer about access or input,
    // never a dropped connection.
    expect(
      failures.filter((f) => f.kind !== 'graphql-errors' || f.codes.some((c) => c !== 'INTERNAL_SERVER_ERROR')),
    ).toEqual([]);
    expect(failures.length).toBeGreaterThan(0); // the faults did catch requests in flight
    expect(outcomes.length - failures.length).toBeGreaterThan(0);

    // Back to normal within a few seconds of the last fault: new connections, no restart.
    expect(
      await eventually(async () => (await catalogRead()).kind === 'ok' && (await signUp()).kind === 'ok', 5_000),
    ).toBe(true);
    expect((await Promise.all([catalogRead(), signUp(), catalogRead(), signUp()])).map((o) => o.kind)).toEqual(
      Array(4).fill('ok'),
    );
    expect((await readyz()).status).toBe(200);
    expect(serverAlive()).toBe(true);
    // The lost connections were logged, at warn level and not once per connection.
    const lost = logLines(main.output()).filter((line) => line.msg === 'database connection lost');
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(lost.length).toBeLessThanOrEqual(2);
    expect(lost.every((line) => line.level === 40)).toBe(true);
  }, 25_000);

  it('answers /readyz 503 promptly while the database refuses or ignores it, and 200 once it is back', async () => {
    expect((await readyz()).status).toBe(200);

    // Refused: no connections allowed, and the open ones ended.
    await admin.query(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS false`);
    await terminateBackends();
    const refused = await readyz();
    expect(refused.status).toBe(503);
    expect(refused.ms).toBeLessThan(2_500);
    await admin.query(`ALTER DATABASE "${databaseName}" ALLOW_CONNECTIONS true`);
    expect(await eventually(async () => (await readyz()).status === 200, 5_000)).toBe(true);

    // Unanswered: the network between server and database drops everything and closes nothing.
    proxy.freeze();
    const unanswered = await readyz();
    expect(unanswered.status).toBe(503);
    expect(unanswered.ms).toBeLessThan(2_500);
    proxy.thaw();
    expect(await eventually(async () => (await readyz()).status === 200, 5_000)).toBe(true);
    expect(await catalogRead()).toEqual({ kind: 'ok' });
    expect(serverAlive()).toBe(true);
  }, 25_000);
});
