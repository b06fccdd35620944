// The real server on an ephemeral port over a database of its own, and a small GraphQL client for it.
import { createApp } from '../../src/app.js';
import { accessTokens } from '../../src/auth/tokens.js';
import type { Role } from '../../src/auth/viewer.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { PrismaClient } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import type { Runtime } from '../../src/runtime.js';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { DestinationStream } from 'pino';
import { startStatementCounter, type StatementCounter } from './statementCounter.js';
import { createTestDatabase, type TestDatabase } from './testDatabase.js';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  extensions?: Record<string, unknown>;
}

export interface TestServer {
  url: string;
  prisma: PrismaClient;
  /** The app's services and background workers: recovery passes, the outbox relay. */
  runtime: Runtime;
  /** Counts the SQL statements the server sends to the database (when started with countStatements). */
  statements: StatementCounter | null;
  /** Sends one GraphQL operation, as `token`'s bearer when given. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  /** A new account with `role` (or an existing one) signed in: its session, as logIn would start it. */
  sessionFor(role: Role, accountId?: string): Promise<{ accountId: string; sessionId: string }>;
  /** An access token for a new session of a new account with `role` (or of `accountId`), as logIn would issue. */
  tokenFor(role: Role, options?: { accountId?: string; expiresIn?: number }): Promise<string>;
  close(): Promise<void>;
}

export const TEST_SECRET = 'Zq3v9KfT2mWx8LpR4nBy6HjD1sGc7AeU0oVi5tNk';
export const TEST_WEBHOOK_SECRET = 'wH7cP2xL9qR4mV8tB3nK6yF1sJ5dG0aZeUoXi';

const UNTHROTTLED = '1000000000/1000000000';

/** What every test instance runs with, whatever its transport (a test server, the Lambda handler): its database and
 * Redis keys of its own, the test secrets, and no background polling, so that statement counts see only requests' SQL
 * and tests decide when queued work runs. */
export function testInstanceEnv(database: TestDatabase, databaseUrl = database.url): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: database.embedded ? '1' : '5',
    SEED_DEMO_CATALOG: 'false',
    MAILER_INTERVAL_MS: '3600000', // tests read the outbox, or flush a mailer of their own
    RECOVERY_INTERVAL_MS: '3600000', // tests run recovery passes themselves (runtime.recovery)
    // Events are delivered right after they are written; no polling.
    OUTBOX_RELAY_INTERVAL_MS: '3600000',
    REDIS_URL: process.env.REDIS_URL ?? '',
    REDIS_KEY_PREFIX: `agora-test-${crypto.randomUUID()}:`,
    JWT_SECRET: TEST_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  };
}

export async function startTestServer(
  options: {
    env?: Record<string, string>;
    countStatements?: boolean;
    /** A database to share with other servers (several instances of one deployment); close() leaves it alone. */
    database?: TestDatabase;
    /** Traces into this processor (and puts trace ids on log lines). */
    spanProcessor?: SpanProcessor;
    /** Where the server's log lines go (at TEST_LOG_LEVEL, or env.LOG_LEVEL); by default nowhere. */
    logStream?: DestinationStream;
  } = {},
): Promise<TestServer> {
  const shared = options.database;
  const database = shared ?? (await createTestDatabase());
  const dropOwnDatabase = () => (shared ? Promise.resolve() : database.drop());
  const statements = options.countStatements ? await startStatementCounter(database.url) : null;
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...testInstanceEnv(database, statements?.url),
    // Suites fire bursts from one address; tests of throttling set their own buckets.
    RATE_LIMIT_ANONYMOUS: UNTHROTTLED,
    RATE_LIMIT_CUSTOMER: UNTHROTTLED,
    RATE_LIMIT_STAFF: UNTHROTTLED,
    SIGN_UP_LIMIT: '1000000/3600',
    // Suites read what they just changed; tests of the response cache turn it on.
    RESPONSE_CACHE: 'false',
    ...options.env,
  });
  const logger = createLogger(config, {
    destination: options.logStream,
    traceIds: options.spanProcessor ? true : undefined,
  });
  const app = await createApp(
    config,
    logger,
    options.spanProcessor ? { spanProcessors: [options.spanProcessor] } : {},
  ).catch(async (error: unknown) => {
    await statements?.close();
    await dropOwnDatabase();
    throw error;
  });
  const url = await app.listen();
  const tokens = accessTokens(config);
  const sessionFor = async (role: Role, accountId?: string) => {
    const id = crypto.randomUUID();
    const account =
      accountId ??
      (
        await app.prisma.account.create({
          data: { email: `${role.toLowerCase()}-${id}@example.test`, firstName: 'Test', lastName: role, role },
        })
      ).id;
    const session = await app.prisma.session.create({ data: { accountId: account } });
    return { accountId: account, sessionId: session.id };
  };
  return {
    url,
    prisma: app.prisma,
    runtime: app.runtime,
    statements,
    async gql(query, variables, token) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status' | 'headers'>;
      return { status: response.status, headers: response.headers, ...body };
    },
    sessionFor,
    async tokenFor(role, { accountId, expiresIn } = {}) {
      const session = await sessionFor(role, accountId);
      return (await tokens.sign({ ...session, role }, expiresIn)).token;
    },
    async close() {
      await app.stop();
      await statements?.close();
      await dropOwnDatabase();
    },
  };
}
