// The HTTP surface around GraphQL: health checks, request IDs, development conveniences that production turns off,
// and configuration that refuses bad values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import {
  startTestServer,
  TEST_SECRET,
  TEST_WEBHOOK_SECRET,
  type GraphQLResponse,
  type TestServer,
} from './support/testServer.js';

let dev: TestServer;
let prod: TestServer;

beforeAll(async () => {
  // one after the other: the harness cannot copy the template database twice at once
  dev = await startTestServer(); // NODE_ENV=test: not production
  prod = await startTestServer({ env: { NODE_ENV: 'production', JWT_SECRET: TEST_SECRET } });
});
afterAll(async () => {
  await Promise.all([dev?.close(), prod?.close()]);
});

const at = (server: TestServer, path: string) => new URL(path, server.url).toString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('health checks', () => {
  it.each([
    ['/healthz', { status: 'ok' }],
    ['/readyz', { status: 'ready' }],
  ])('GET %s answers 200 %o', async (path, body) => {
    const response = await fetch(at(dev, path));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(body);
  });
});

describe('x-request-id', () => {
  const graphql = (headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const requests: [string, string, RequestInit?][] = [
    ['GET /healthz', '/healthz'],
    ['GET /readyz', '/readyz'],
    ['a GraphQL query', '/graphql', graphql()],
    ['a GraphQL request refused with 401', '/graphql', graphql({ authorization: 'Bearer not.a.jwt' })],
    ['a GraphQL parse error', '/graphql', { ...graphql(), body: JSON.stringify({ query: '{' }) }],
    ['an unknown path', '/no-such-page'],
  ];

  it.each(requests)('%s gets a fresh one', async (_, path, init) => {
    const [first, second] = [await fetch(at(dev, path), init), await fetch(at(dev, path), init)];
    expect(first.headers.get('x-request-id')).toMatch(UUID);
    expect(second.headers.get('x-request-id')).toMatch(UUID);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });

  it.each(requests)('%s echoes a valid incoming one', async (_, path, init) => {
    const id = `trace_${'a'.repeat(40)}-1`;
    const response = await fetch(at(dev, path), { ...init, headers: { ...init?.headers, 'x-request-id': id } });
    expect(response.headers.get('x-request-id')).toBe(id);
  });

  it.each([
    ['too long', 'a'.repeat(65)],
    ['with spaces', 'two words'],
    ['with other characters', 'id;drop<script>'],
  ])('replaces an incoming one %s', async (_, id) => {
    const response = await fetch(at(dev, '/healthz'), { headers: { 'x-request-id': id } });
    expect(response.headers.get('x-request-id')).toMatch(UUID);
  });
});

const INTROSPECTION = '{ __schema { types { name } } }';
const landingPage = (server: TestServer) => fetch(server.url, { headers: { accept: 'text/html' } });

describe('outside production', () => {
  it('answers introspection', async () => {
    const res = await dev.gql(INTROSPECTION);
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['Product', 'ProductVariant', 'Category', 'UserError', 'Mutation']),
    );
  });

  it('serves the Apollo Sandbox landing page to a browser', async () => {
    const response = await landingPage(dev);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/embeddable-sandbox/);
  });

  it('suggests the field meant by a misspelling', async () => {
    const res = await dev.gql('{ prodcts { totalCount } }');
    expect(res.errors?.[0]?.message).toBe(
      'Cannot query field "prodcts" on type "Query". Did you mean "products" or "product"?',
    );
  });
});

describe('in production', () => {
  it.each([
    ['__schema', INTROSPECTION],
    ['__type', '{ __type(name: "Product") { fields { name } } }'],
  ])('refuses introspection through %s', async (_, query) => {
    const res = await prod.gql(query);
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors![0]!.message).toMatch(/introspection is not allowed/);
  });

  it('still answers __typename', async () => {
    expect(await prod.gql('{ __typename }')).toMatchObject({ status: 200, data: { __typename: 'Query' } });
  });

  it('does not serve the landing page', async () => {
    const response = await landingPage(prod);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).not.toMatch(/<html|sandbox/i);
  });

  it('does not suggest field names', async () => {
    const res = await prod.gql('{ prodcts { totalCount } }');
    expect(res.status).toBe(400);
    expect(res.errors).toEqual([
      {
        message: 'Cannot query field "prodcts" on type "Query".',
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
  });

  const erroneous: [string, () => Promise<GraphQLResponse>][] = [
    ['a syntax error', () => prod.gql('{ products ')],
    ['an unknown field', () => prod.gql('{ products { price } }')],
    ['a bad argument in a resolver', () => prod.gql('{ product(id: "x", slug: "y") { id } }')],
    [
      'a bad variable',
      () => prod.gql('query ($p: Decimal) { products(filter: { minPrice: $p }) { totalCount } }', { p: 'abc' }),
    ],
    ['a denied mutation', () => prod.gql('mutation { categoryDelete(input: { id: "x" }) { deletedCategoryId } }')],
    ['a bad token', () => prod.gql('{ __typename }', undefined, 'not.a.jwt')],
  ];

  it.each(erroneous)('answers %s without a stack trace', async (_, request) => {
    const res = await request();
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const error of res.errors!) {
      expect(error.extensions).toBeDefined();
      expect(Object.keys(error.extensions!)).not.toContain('stacktrace');
      expect(Object.keys(error.extensions!)).not.toContain('exception');
    }
    expect(JSON.stringify(res.errors)).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b/);
  });
});

describe('loadConfig', () => {
  it('fills in defaults, and makes a random JWT secret outside production', () => {
    const first = loadConfig({});
    expect(first).toMatchObject({
      NODE_ENV: 'development',
      HOST: '0.0.0.0',
      PORT: 4000,
      LOG_LEVEL: 'info',
      STORE_CURRENCY: 'USD',
      JWT_ISSUER: 'agora',
      JWT_AUDIENCE: 'agora-api',
    });
    expect(first.DATABASE_URL).toBeUndefined();
    expect(first.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}).JWT_SECRET).not.toBe(first.JWT_SECRET);
  });

  it('accepts good values', () => {
    expect(
      loadConfig({
        NODE_ENV: 'production',
        PORT: '8080',
        DATABASE_URL: 'postgresql://agora@db:5432/agora',
        LOG_LEVEL: 'warn',
        STORE_CURRENCY: 'EUR',
        JWT_SECRET: TEST_SECRET,
        PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      }),
    ).toMatchObject({
      NODE_ENV: 'production',
      PORT: 8080,
      DATABASE_URL: 'postgresql://agora@db:5432/agora',
      LOG_LEVEL: 'warn',
      STORE_CURRENCY: 'EUR',
      JWT_SECRET: TEST_SECRET,
    });
  });

  it('keeps a colon inside the secret of a previous key', () => {
    const secret = `${'s'.repeat(32)}:with-colon`;
    expect(loadConfig({ JWT_PREVIOUS_KEYS: `k0:${secret}` }).JWT_PREVIOUS_KEYS).toEqual([{ kid: 'k0', secret }]);
  });

  it.each([
    ['PORT is not a number', { PORT: 'abc' }, 'PORT'],
    ['PORT is out of range', { PORT: '70000' }, 'PORT'],
    ['DATABASE_URL is not PostgreSQL', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    ['LOG_LEVEL is unknown', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['STORE_CURRENCY is not an upper-case ISO 4217 code', { STORE_CURRENCY: 'usd' }, 'STORE_CURRENCY'],
    ['JWT_SECRET is too short', { JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [
      'JWT_SECRET is missing in production',
      { NODE_ENV: 'production', PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      'JWT_SECRET',
    ],
    [
      'JWT_SECRET is empty in production',
      { NODE_ENV: 'production', JWT_SECRET: '', PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      'JWT_SECRET',
    ],
    [
      'PAYMENT_WEBHOOK_SECRET is missing in production',
      { NODE_ENV: 'production', JWT_SECRET: TEST_SECRET },
      'PAYMENT_WEBHOOK_SECRET',
    ],
    [
      'JWT_SECRET is a placeholder in production',
      {
        NODE_ENV: 'production',
        JWT_SECRET: 'change-me-change-me-change-me-change-me',
        PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      },
      'JWT_SECRET',
    ],
    [
      'PAYMENT_WEBHOOK_SECRET repeats a few characters in production',
      { NODE_ENV: 'production', JWT_SECRET: TEST_SECRET, PAYMENT_WEBHOOK_SECRET: 'ab'.repeat(20) },
      'PAYMENT_WEBHOOK_SECRET',
    ],
    ['TLS_CERT_FILE without TLS_KEY_FILE', { TLS_CERT_FILE: 'cert.pem' }, 'TLS_KEY_FILE'],
    ['TRUSTED_DOCUMENTS without a manifest', { TRUSTED_DOCUMENTS: 'strict' }, 'TRUSTED_DOCUMENTS_MANIFEST'],
    ['a rate limit that is not capacity/rate', { RATE_LIMIT_ANONYMOUS: '1000' }, 'RATE_LIMIT_ANONYMOUS'],
    ['a previous key reuses the current key id', { JWT_PREVIOUS_KEYS: `k1:${'s'.repeat(32)}` }, 'JWT_PREVIOUS_KEYS'],
    ['a previous key has no key id', { JWT_PREVIOUS_KEYS: 's'.repeat(40) }, 'JWT_PREVIOUS_KEYS'],
    ['only ADMIN_EMAIL is set', { ADMIN_EMAIL: 'admin@example.com' }, 'ADMIN_PASSWORD'],
    ['only ADMIN_PASSWORD is set', { ADMIN_PASSWORD: 'a long admin passphrase' }, 'ADMIN_EMAIL'],
    ['REDIS_URL is not Redis', { REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
  ])('throws a ConfigError naming the variable when %s', (_, env, variable) => {
    const error = (() => {
      try {
        loadConfig(env);
      } catch (thrown) {
        return thrown;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as ConfigError;
    expect(message).toMatch(new RegExp(`^Invalid configuration:\\n  ${variable}: \\S.*$`));
    expect(message).not.toMatch(/\{|\[object|ZodError/);
  });

  it('lists every bad value at once', () => {
    expect(() => loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', STORE_CURRENCY: 'usd' })).toThrow(
      /^Invalid configuration:\n {2}PORT: .+\n {2}LOG_LEVEL: .+\n {2}STORE_CURRENCY: an ISO 4217 code such as USD$/,
    );
  });

  it('says what production is missing', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      new ConfigError(
        'Invalid configuration:\n  JWT_SECRET: required in production\n  PAYMENT_WEBHOOK_SECRET: required in production',
      ),
    );
  });
});
