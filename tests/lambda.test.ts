// The Lambda handlers, invoked as AWS invokes them: recorded API Gateway events (tests/fixtures/lambda/) and a
// Lambda context object, against a database of their own. The same server as over HTTP: the same answers, the same
// refusals, the same error masking; built once per container and reused.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context as LambdaContext,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as ServerModule from '../src/graphql/server.js';
import { createGraphQLServer } from '../src/graphql/server.js';
import type * as LoggerModule from '../src/logger.js';
import { closeLambdaRuntime, handler, maintenanceHandler, restApiHandler } from '../src/lambda.js';
import { CatalogService } from '../src/modules/catalog/service.js';
import type * as RuntimeModule from '../src/runtime.js';
import { openRuntime } from '../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { TEST_SECRET, testInstanceEnv } from './support/testServer.js';

// Counted, to show what a cold start builds and that later invocations reuse it.
vi.mock('../src/runtime.js', async (importOriginal) => {
  const actual = await importOriginal<typeof RuntimeModule>();
  return { ...actual, openRuntime: vi.fn(actual.openRuntime) };
});
vi.mock('../src/graphql/server.js', async (importOriginal) => {
  const actual = await importOriginal<typeof ServerModule>();
  return { ...actual, createGraphQLServer: vi.fn(actual.createGraphQLServer) };
});
// The function's log lines, kept for reading instead of written to stdout.
const logLines = vi.hoisted(() => [] as Record<string, any>[]);
vi.mock('../src/logger.js', async (importOriginal) => {
  const actual = await importOriginal<typeof LoggerModule>();
  const destination = { write: (line: string) => void logLines.push(JSON.parse(line)) };
  return {
    ...actual,
    createLogger: (...[config, options]: Parameters<typeof actual.createLogger>) =>
      actual.createLogger(config, { ...options, destination }),
  };
});

const ADMIN = { email: 'admin@agora.test', password: 'cold starts need steady hands 42' };
const SEEDED = ['Aurora Hoodie', 'Cedar Candle', 'Ember Mug'];

let database: TestDatabase;
let staffToken: string;

// ---------------------------------------------------------------------------------------------------------------
// Events and invocations

type HttpApiEvent = APIGatewayProxyEventV2;

const fixture = <T = HttpApiEvent>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/lambda/${name}.json`, import.meta.url), 'utf8')) as T;

/** A minimal Lambda context, as the Node.js runtime passes it. */
const lambdaContext = (awsRequestId: string = randomUUID()): LambdaContext => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'agora-graphql',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:agora-graphql',
  memoryLimitInMB: '1024',
  awsRequestId,
  logGroupName: '/aws/lambda/agora-graphql',
  logStreamName: '2026/03/14/[$LATEST]6f0c1d2e3b4a59687a6b5c4d3e2f1a0b',
  getRemainingTimeInMillis: () => 29_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** The recorded POST with another GraphQL body, headers added and a request id of its own. */
function httpApiPost(body: unknown, headers: Record<string, string> = {}): HttpApiEvent {
  const event = fixture('http-api-post');
  event.body = typeof body === 'string' ? body : JSON.stringify(body);
  event.headers = { ...event.headers, 'content-length': String(Buffer.byteLength(event.body)), ...headers };
  event.requestContext.requestId = randomUUID();
  return event;
}

interface Answer {
  status: number;
  headers: Record<string, string | number | boolean>;
  text: string;
  body: any;
}

function answer(result: APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult): Answer {
  const text = result.body ?? '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: result.statusCode ?? 200, headers: result.headers ?? {}, text, body };
}

const invoke = async (event: HttpApiEvent, context = lambdaContext()) => answer(await handler(event, context));
const invokeRestApi = async (event: APIGatewayProxyEvent, context = lambdaContext()) =>
  answer(await restApiHandler(event, context));

const gql = (query: string, variables?: Record<string, unknown>, token?: string) =>
  invoke(httpApiPost({ query, variables }, token ? { authorization: `Bearer ${token}` } : {}));

const titlesOf = (res: Answer): string[] =>
  res.body.data.products.nodes.map((product: { title: string }) => product.title).sort();

function expectProducts(res: Answer) {
  expect(res.status, res.text).toBe(200);
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.products.totalCount).toBe(SEEDED.length);
  expect(titlesOf(res)).toEqual(SEEDED);
}

function expectRefused(res: Answer, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual([code]);
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  database = await createTestDatabase();
  const env: Record<string, string> = {
    ...testInstanceEnv(database),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);

  // Seeded through the function itself: the first admin from the environment signs in and creates the products.
  const logIn = await gql('mutation ($input: LogInInput!) { logIn(input: $input) { tokens { accessToken } } }', {
    input: ADMIN,
  });
  expect(logIn.status, logIn.text).toBe(200);
  staffToken = logIn.body.data.logIn.tokens.accessToken;
  for (const title of SEEDED) {
    const created = await gql(
      'mutation ($input: ProductCreateInput!) { productCreate(input: $input) { product { id } userErrors { code } } }',
      { input: { title } },
      staffToken,
    );
    expect(created.body.data.productCreate.userErrors, created.text).toEqual([]);
  }
});

afterAll(async () => {
  await closeLambdaRuntime();
  await database?.drop();
  vi.unstubAllEnvs();
});

describe('the HTTP API handler (payload format 2.0)', () => {
  it('answers the recorded POST with the seeded products', async () => {
    const event = fixture('http-api-post');
    const res = await invoke(event);
    expectProducts(res);
    expect(res.headers['content-type']).toMatch(/^application\/(graphql-response\+)?json/);
    expect(res.headers['x-request-id']).toBe(event.requestContext.requestId);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // The operation plugins run as over HTTP: the query cost is reported.
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 12 });
  });

  it('decodes a base64-encoded body', async () => {
    const event = fixture('http-api-post-base64');
    expect(event.isBase64Encoded).toBe(true);
    expect(() => JSON.parse(event.body!)).toThrow();
    expectProducts(await invoke(event));
  });

  it('answers the recorded GET (with the preflight header) from the query string', async () => {
    expectProducts(await invoke(fixture('http-api-get')));
  });

  it('refuses a GET without a preflight header (CSRF prevention), as over HTTP', async () => {
    const event = fixture('http-api-get');
    delete event.headers['apollo-require-preflight'];
    const res = await invoke(event);
    expect(res.status, res.text).toBe(400);
    expect(res.text).toMatch(/CSRF/);
  });

  it('runs a staff mutation with a bearer token', async () => {
    const res = await gql(
      'mutation ($input: CategoryCreateInput!) { categoryCreate(input: $input) { category { name slug } userErrors { code } } }',
      { input: { name: 'Lambda Picks' } },
      staffToken,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.categoryCreate).toEqual({
      category: { name: 'Lambda Picks', slug: 'lambda-picks' },
      userErrors: [],
    });
  });

  it('refuses the same mutation without a token', async () => {
    const res = await gql('mutation { categoryCreate(input: { name: "Nope" }) { category { name } } }');
    expect(res.body.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('answers a bad token with 401 UNAUTHENTICATED', async () => {
    const res = await invoke(
      httpApiPost(JSON.parse(fixture('http-api-post').body!), { authorization: 'Bearer x.y.z' }),
    );
    expectRefused(res, 401, 'UNAUTHENTICATED');
  });

  it('refuses a query over the depth limit with 400 DEPTH_LIMIT_EXCEEDED', async () => {
    const query = `{ category(slug: "x") { ${'parent { '.repeat(15)}id${' }'.repeat(15)} } }`;
    const res = await gql(query);
    expectRefused(res, 400, 'DEPTH_LIMIT_EXCEEDED');
    expect(res.body.errors[0].extensions).toMatchObject({ maximum: 12, found: 17 });
  });

  it('refuses a batch, a body over the size limit and deeply nested JSON before GraphQL sees them', async () => {
    expectRefused(
      await invoke(httpApiPost([{ query: '{ __typename }' }, { query: '{ __typename }' }])),
      400,
      'BATCH_LIMIT_EXCEEDED',
    );
    const big = { query: '{ __typename }', variables: { x: ' '.repeat(1_048_576) } };
    const tooLarge = await invoke(httpApiPost(big));
    expectRefused(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
    expect(tooLarge.body.errors[0].extensions.maximum).toBe(1_048_576);
    const nested = `{"query":"{ __typename }","variables":{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    expectRefused(await invoke(httpApiPost(nested)), 400, 'BAD_REQUEST');
  });

  it('answers a body that is not JSON with a GraphQL error, not the parser’s message', async () => {
    const res = await invoke(httpApiPost('{"query": "{ __typename }"'));
    expectRefused(res, 400, 'BAD_REQUEST');
    expect(res.body.errors[0].message).toBe('The request body is not valid JSON.');
  });

  it('masks an internal error: no message, no stack trace', async () => {
    const failure = new Error('connect ECONNREFUSED 10.0.3.17:5432 (relation "category" at CatalogService)');
    const spy = vi.spyOn(CatalogService.prototype, 'listCategories').mockRejectedValueOnce(failure);
    try {
      const res = await gql('{ categories(first: 5) { nodes { name } } }');
      expect(res.status, res.text).toBe(200);
      expect(res.body.errors).toEqual([
        {
          message: 'Internal server error',
          locations: [{ line: 1, column: 3 }],
          path: ['categories'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      expect(res.text).not.toMatch(/ECONNREFUSED|10\.0\.3\.17|CatalogService|stacktrace|\bat /);
    } finally {
      spy.mockRestore();
    }
  });

  it('logs each operation with the request ids and the client address from the event', async () => {
    const event = httpApiPost({ query: '{ products(first: 1) { totalCount } }' });
    event.requestContext.http.sourceIp = '192.0.2.77';
    const awsRequestId = randomUUID();
    expect((await invoke(event, lambdaContext(awsRequestId))).status).toBe(200);
    const line = logLines.find((entry) => entry.msg === 'graphql operation' && entry.awsRequestId === awsRequestId);
    expect(line).toMatchObject({ requestId: event.requestContext.requestId, clientAddress: '192.0.2.77' });
  });
});

describe('the REST API handler (payload format 1.0)', () => {
  it('answers the recorded POST with the seeded products', async () => {
    const event = fixture<APIGatewayProxyEvent>('rest-api-post');
    const res = await invokeRestApi(event);
    expectProducts(res);
    expect(res.headers['x-request-id']).toBe(event.requestContext.requestId);
  });

  it('reads a header whatever the case the client sent it in', async () => {
    const event = fixture<APIGatewayProxyEvent>('rest-api-post');
    event.headers.Authorization = 'Bearer x.y.z';
    expectRefused(await invokeRestApi(event), 401, 'UNAUTHENTICATED');
  });
});

describe('the container', () => {
  it('was started once and built one server per kind of event, reused by every invocation since', async () => {
    // Everything above (seeding and every test) ran in this one container.
    expect(openRuntime).toHaveBeenCalledTimes(1);
    expect(createGraphQLServer).toHaveBeenCalledTimes(2);
    expect(logLines.filter((entry) => entry.msg === 'lambda container ready')).toHaveLength(1);
    expectProducts(await invoke(fixture('http-api-post')));
    expect(openRuntime).toHaveBeenCalledTimes(1);
    expect(createGraphQLServer).toHaveBeenCalledTimes(2);
  });

  it('runs a maintenance pass: queued emails are sent, and nothing else is due', async () => {
    const res = await gql(
      'mutation { passwordResetRequest(input: { email: "admin@agora.test" }) { userErrors { code } } }',
    );
    expect(res.body.data.passwordResetRequest.userErrors, res.text).toEqual([]);
    const idle = {
      eventsDelivered: 0,
      reservationsReleased: 0,
      recovered: { checkouts: 0, operations: 0, reservations: 0 },
    };
    const result = await maintenanceHandler({}, lambdaContext());
    expect(result).toEqual({ emailsSent: 1, ...idle });
    // The mail log transport stands in for SMTP (the address may be masked in the log).
    expect(logLines.find((entry) => entry.msg.startsWith('email (not sent'))?.email.to).toMatch(/@agora\.test$/);
    expect(await maintenanceHandler({}, lambdaContext())).toEqual({ emailsSent: 0, ...idle });
    expect(logLines.filter((entry) => entry.msg === 'maintenance pass done').at(-1)).toMatchObject({
      emailsSent: 0,
      eventsDelivered: 0,
      checkouts: 0,
      operations: 0,
      reservations: 0,
    });
  });

  it('refuses to start without a database URL or a signing key of its own, and retries on the next invocation', async () => {
    await closeLambdaRuntime();
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('JWT_SECRET', '');
    await expect(invoke(fixture('http-api-post'))).rejects.toThrow(
      /DATABASE_URL: required in Lambda[^]*JWT_SECRET: required in Lambda/,
    );
    vi.stubEnv('DATABASE_URL', database.url);
    vi.stubEnv('JWT_SECRET', TEST_SECRET);
  });

  it('starts again, once, after being closed, even for invocations arriving together', async () => {
    await closeLambdaRuntime();
    const answers = await Promise.all([1, 2, 3].map(() => invoke(fixture('http-api-post'))));
    for (const res of answers) expectProducts(res);
    expect(openRuntime).toHaveBeenCalledTimes(2);
    expect(createGraphQLServer).toHaveBeenCalledTimes(3);
  });
});
