// Attacks on the HTTP around GraphQL: bodies that are not JSON or too big, content types a browser form can send
// cross-site, GET mutations, batches, oversized headers, origins not on the CORS list, and headers that claim another
// client address. Each refusal is answered before any database query, with a GraphQL-shaped error (or a bare status
// where Node itself refuses), and every response carries the security headers.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import {
  CSRF_BLOCKED,
  expectRefused,
  get,
  gql,
  post,
  postFrom,
  send,
  startProductionServer,
  withoutQueries,
  type RawResponse,
} from './support.js';

let server: TestServer;
let withCors: TestServer;

beforeAll(async () => {
  // Production defaults (no CORS origins, no trusted proxy, batching off); a bucket that refills so slowly that
  // each request's charge shows.
  server = await startProductionServer({ RATE_LIMIT_ANONYMOUS: '100000/0.001' });
  withCors = await startProductionServer({ CORS_ORIGINS: 'https://shop.example,https://admin.shop.example' });
});
afterAll(async () => {
  await Promise.all([server?.close(), withCors?.close()]);
});

const TYPENAME = JSON.stringify({ query: '{ __typename }' });
const MUTATION =
  'mutation { logIn(input: { email: "victim@example.test", password: "guess" }) { userErrors { code } } }';

const raw = (init: RequestInit, target: TestServer = server) => withoutQueries(target, () => send(target.url, init));
const at = (target: TestServer, path: string) => new URL(path, target.url).toString();

describe('bodies that are not a GraphQL request', () => {
  it.each([
    ['truncated JSON', '{"query": '],
    ['JSON with unquoted keys', '{query: "{ __typename }"}'],
    ['trailing garbage', `${TYPENAME} x`],
    ['a bare string', '"{ __typename }"'],
    ['null', 'null'],
    ['a number', '42'],
  ])('refuses %s with 400 BAD_REQUEST', async (_, body) => {
    expectRefused(await raw({ method: 'POST', headers: { 'content-type': 'application/json' }, body }), {
      status: 400,
      code: 'BAD_REQUEST',
      message: 'The request body is not valid JSON.',
    });
  });

  it.each([
    ['an empty body', ''],
    ['an empty object', '{}'],
  ])('refuses %s with 400 BAD_REQUEST', async (_, body) => {
    expectRefused(await raw({ method: 'POST', headers: { 'content-type': 'application/json' }, body }), {
      status: 400,
      code: 'BAD_REQUEST',
      message: 'POST body missing, invalid Content-Type, or JSON object has no keys.',
    });
  });

  it.each([
    ['a query that is not a string', { query: { toString: '{ __typename }' } }, 'GraphQL queries must be strings.'],
    [
      'variables sent as a string',
      { query: '{ __typename }', variables: '{}' },
      '`variables` in a POST body should be provided as an object, not a recursively JSON-encoded string.',
    ],
  ])('refuses %s with 400 BAD_REQUEST', async (_, body, message) => {
    expectRefused(await withoutQueries(server, () => post(server, body)), {
      status: 400,
      code: 'BAD_REQUEST',
      message,
    });
  });

  it('refuses a body in another charset with 415', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: TYPENAME,
    });
    expectRefused(res, { status: 415, code: 'BAD_REQUEST', message: 'The request body must be UTF-8.' });
  });

  it('refuses an unknown content encoding with 415', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
      body: TYPENAME,
    });
    expectRefused(res, {
      status: 415,
      code: 'BAD_REQUEST',
      message: 'The request body’s content encoding is not supported.',
    });
  });

  it('refuses a gzip bomb (5 KB inflating to 5 MB) with 413, counting the inflated size', async () => {
    const bomb = gzipSync(JSON.stringify({ query: '{ __typename }', variables: { x: ' '.repeat(5_000_000) } }));
    expect(bomb.length).toBeLessThan(10_000);
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: new Uint8Array(bomb),
    });
    expectRefused(res, { status: 413, code: 'PAYLOAD_TOO_LARGE', maximum: 1_048_576 });
  });

  it('answers a deeply nested variable value with a 4xx, not an internal error', async () => {
    // 10,000 nested arrays: 20 kB of JSON that the server's own checks walk recursively
    const nested = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":"{ __typename }","variables":{"x":${nested}}}`,
    });
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
    expect(res.body.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).not.toContain(
      'INTERNAL_SERVER_ERROR',
    );
  });
});

describe('requests a browser could send cross-site without a preflight (CSRF)', () => {
  it.each([
    ['text/plain', TYPENAME],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent('{ __typename }')}`],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--x--',
    ],
  ])('blocks a %s POST', async (contentType, body) => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': contentType, origin: 'https://evil.example' },
      body,
    });
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: CSRF_BLOCKED });
  });

  it('blocks a POST without a content type', async () => {
    const res = await raw({ method: 'POST', body: new Blob([TYPENAME]) });
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: CSRF_BLOCKED });
  });

  it('blocks a GET query without the preflight header', async () => {
    const res = await withoutQueries(server, () => get(server, { query: '{ __typename }' }, {}));
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: CSRF_BLOCKED });
  });

  it('blocks a GET mutation without the preflight header', async () => {
    const res = await withoutQueries(server, () => get(server, { query: MUTATION }, {}));
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: CSRF_BLOCKED });
  });

  it('answers a GET query that carries the preflight header', async () => {
    const res = await get(server, { query: '{ __typename }' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ __typename: 'Query' });
  });
});

describe('methods', () => {
  it('refuses a mutation over GET with 405, allowing POST', async () => {
    const res = await withoutQueries(server, () => get(server, { query: MUTATION }));
    expectRefused(res, {
      status: 405,
      code: 'BAD_REQUEST',
      message: 'GET requests only support query operations, not mutation operations',
    });
    expect(res.headers.get('allow')).toBe('POST');
  });

  it.each(['PUT', 'DELETE', 'PATCH'])('refuses %s with 405', async (method) => {
    const res = await raw({ method, headers: { 'content-type': 'application/json' }, body: TYPENAME });
    expectRefused(res, { status: 405, code: 'BAD_REQUEST', message: 'Apollo Server supports only GET/POST requests.' });
    expect(res.headers.get('allow')).toBe('GET, POST');
  });
});

describe('batched operations (off by default)', () => {
  const operation = { query: '{ __typename }' };

  it.each([1, 2, 100])('refuses a batch of %i', async (size) => {
    const res = await withoutQueries(server, () => post(server, Array(size).fill(operation)));
    expectRefused(res, {
      status: 400,
      code: 'BATCH_LIMIT_EXCEEDED',
      message: 'Batched requests are turned off: send one operation per request.',
      maximum: 0,
      found: size,
    });
  });

  it('refuses an empty batch', async () => {
    const res = await withoutQueries(server, () => post(server, []));
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: 'Operation batching disabled.' });
  });
});

describe('oversized headers', () => {
  it('refuses a 20 kB Authorization header with 431', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(20_000)}` },
      body: TYPENAME,
    });
    expect(res.status).toBe(431);
    expect(res.text).toBe('');
  });

  it('refuses a GET query of 30 kB in the URL with 431', async () => {
    const res = await withoutQueries(server, () => get(server, { query: `# ${'x'.repeat(30_000)}\n{ __typename }` }));
    expect(res.status).toBe(431);
    expect(res.text).toBe('');
  });
});

describe('security headers', () => {
  const expectSecurityHeaders = (res: RawResponse) => {
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    // helmet's policy; Express's own 404 page narrows it to default-src 'none'
    expect(res.headers.get('content-security-policy')).toMatch(
      /^default-src 'self';.*frame-ancestors 'self'|^default-src 'none'$/,
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(res.headers.get('x-dns-prefetch-control')).toBe('off');
    expect(res.headers.get('x-powered-by')).toBeNull();
  };

  it.each<[string, () => Promise<RawResponse>]>([
    ['an answered query', () => gql(server, '{ __typename }')],
    ['a refused query', () => gql(server, '{ __schema { types { name } } }')],
    [
      'a refused body',
      () => send(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
    ],
    ['the health check', () => send(at(server, '/healthz'))],
    ['an unknown path', () => send(at(server, '/no-such-page'))],
  ])('are on %s', async (_, request) => {
    expectSecurityHeaders(await request());
  });
});

describe('CORS', () => {
  const preflight = (target: TestServer, origin: string) =>
    send(target.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const fromOrigin = (target: TestServer, origin: string) =>
    send(target.url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: TYPENAME });

  it('allows a listed origin, for the methods GraphQL uses', async () => {
    const res = await preflight(withCors, 'https://shop.example');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const answer = await fromOrigin(withCors, 'https://admin.shop.example');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://admin.shop.example');
    expect(answer.headers.get('vary')).toMatch(/Origin/);
  });

  it.each(['https://evil.example', 'https://shop.example.evil.example', 'http://shop.example', 'null'])(
    'does not allow %s',
    async (origin) => {
      expect((await preflight(withCors, origin)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await fromOrigin(withCors, origin)).headers.get('access-control-allow-origin')).toBeNull();
    },
  );

  it('allows no origin in production when none is configured', async () => {
    for (const origin of ['https://shop.example', 'https://evil.example']) {
      expect((await preflight(server, origin)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await fromOrigin(server, origin)).headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('client addresses without a trusted proxy (TRUST_PROXY unset)', () => {
  const available = (res: RawResponse): number => res.body.extensions.cost.throttleStatus.currentlyAvailable;
  const QUERY = { query: '{ product(slug: "no-such-product") { id } }' }; // costs 1

  it('ignores X-Forwarded-For, so a client cannot pick a fresh rate-limit bucket with it', async () => {
    const first = await postFrom('127.0.0.2', server, QUERY, { 'x-forwarded-for': '198.51.100.1' });
    const second = await postFrom('127.0.0.2', server, QUERY, { 'x-forwarded-for': '198.51.100.2' });
    const third = await postFrom('127.0.0.2', server, QUERY, { 'x-forwarded-for': '203.0.113.9, 198.51.100.3' });
    expect([first, second, third].map((res) => res.status)).toEqual([200, 200, 200]);
    expect(available(second)).toBe(available(first) - 1);
    expect(available(third)).toBe(available(first) - 2);
  });

  it('tells clients apart by their socket addresses', async () => {
    const a = await postFrom('127.0.0.3', server, QUERY);
    const b = await postFrom('127.0.0.4', server, QUERY);
    expect(available(a)).toBe(99_999);
    expect(available(b)).toBe(99_999);
  });
});
