// Raw HTTP for the security suite: requests exactly as an attacker would shape them (any body, any headers, any
// client address), and the checks every refusal must pass: the right status and code, nothing internal in the body,
// and not one SQL statement sent to the database while refusing.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body as sent. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: any;
}

/** A production server (NODE_ENV=production) whose SQL statements are counted. */
export const startProductionServer = (env: Record<string, string> = {}): Promise<TestServer> =>
  startTestServer({ env: { NODE_ENV: 'production', ...env }, countStatements: true });

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export async function send(url: string, init: RequestInit = {}): Promise<RawResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: parse(text) };
}

/** POSTs `body` (JSON-encoded unless it is already a string) as application/json unless headers say otherwise. */
export const post = (server: TestServer, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> =>
  send(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** One GraphQL operation over POST, optionally as a bearer or with extra headers. */
export const gql = (
  server: TestServer,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<RawResponse> => post(server, { query, variables }, headers);

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** GET with the parameters in the query string; with Apollo's preflight header unless `headers` replace it. */
export function get(
  server: TestServer,
  params: Record<string, string>,
  headers: Record<string, string> = { 'apollo-require-preflight': 'true' },
): Promise<RawResponse> {
  const url = new URL(server.url);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return send(url.toString(), { method: 'GET', headers });
}

/** POSTs from another loopback address (127.x.y.z), so the server sees another client socket. */
export function postFrom(
  localAddress: string,
  server: TestServer,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      server.url,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === 'string') responseHeaders.set(name, value);
          }
          resolve({ status: response.statusCode!, headers: responseHeaders, text, body: parse(text) });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `request` and asserts that the server sent no SQL statement meanwhile (nor in the moment after, in case the
 * refusal set off work in the background). Needs a server started with countStatements.
 */
export async function withoutQueries<T>(server: TestServer, request: () => Promise<T>): Promise<T> {
  const counter = server.statements;
  if (!counter) throw new Error('start the server with countStatements: true');
  counter.reset();
  const result = await request();
  await sleep(25);
  expect(counter.statements(), 'SQL sent to the database while refusing the request').toEqual([]);
  return result;
}

/** What must never reach a client: stack traces, file paths, SQL or database driver messages. */
const LEAKS: [string, RegExp][] = [
  ['a stack frame', /\bat [\w.<>$]+ \(|\bat .+:\d+:\d+/],
  ['a stack trace field', /stacktrace|"exception"/i],
  ['a file path', /\/(?:work|home|usr|tmp|app|src|node_modules)\/|\.(?:ts|js|mjs|cjs):\d+/],
  ['an ORM or driver name', /prisma|pglite|node-postgres|\bpg-/i],
  [
    'a database error',
    /syntax error at or near|SQLSTATE|relation "|column "|invalid input syntax|unterminated quoted|violates .* constraint/i,
  ],
  ['SQL', /\bSELECT\b[\s\S]*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b\s+"?\w+"?\s+SET\b|\bDELETE FROM\b|\bDROP TABLE\b/i],
];

/**
 * Asserts that a response body leaks nothing internal. `echoes` are client inputs the body may repeat (a bad
 * variable's value is quoted back in its error), removed before looking, so that an attack string echoed back is not
 * mistaken for SQL the server wrote.
 */
export function expectNoLeak(text: string, echoes: string[] = []) {
  let scrubbed = text;
  for (const echo of echoes) {
    for (const form of [echo, JSON.stringify(echo).slice(1, -1), JSON.stringify(JSON.stringify(echo)).slice(1, -1)]) {
      scrubbed = scrubbed.split(form).join('<input>');
    }
  }
  for (const [what, pattern] of LEAKS) {
    expect(scrubbed, `the body holds ${what}`).not.toMatch(pattern);
  }
}

export interface Refusal {
  status: number;
  code: string;
  message?: string | RegExp;
  maximum?: number;
  found?: number;
}

/**
 * A refusal: the status, exactly one error with the code (and maximum/found when given, no `found` when not),
 * no data, and no leak.
 */
export function expectRefused(res: RawResponse, expected: Refusal) {
  expect(res.status, res.text).toBe(expected.status);
  expect(res.body, res.text).toBeTypeOf('object');
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors, res.text).toHaveLength(1);
  const [error] = res.body.errors;
  expect(error.extensions.code).toBe(expected.code);
  if (expected.message !== undefined) {
    if (typeof expected.message === 'string') expect(error.message).toBe(expected.message);
    else expect(error.message).toMatch(expected.message);
  }
  if ('maximum' in expected) expect(error.extensions.maximum).toBe(expected.maximum);
  if ('found' in expected) expect(error.extensions.found).toBe(expected.found);
  expectNoLeak(res.text);
}

/** The CSRF refusal Apollo gives a request a browser could send cross-site without a preflight. */
export const CSRF_BLOCKED = /^This operation has been blocked as a potential Cross-Site Request Forgery \(CSRF\)/;

/** Fixed IDs, so that tests can name rows. */
export const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * Three products (two, one and no variants) in two categories, with words that no attack string below contains,
 * so that a search that finds anything found it by injection.
 */
export async function seedSmallCatalog(prisma: TestServer['prisma']) {
  await prisma.category.createMany({
    data: [
      { id: uuid(101), name: 'Apparel', slug: 'apparel', description: 'Clothes.' },
      { id: uuid(102), name: 'Hoodies', slug: 'hoodies', description: 'Warm.', parentId: uuid(101) },
      { id: uuid(103), name: 'Home', slug: 'home', description: 'Cosy.' },
    ],
  });
  await prisma.product.createMany({
    data: [
      { id: uuid(1), title: 'Aurora Hoodie', slug: 'aurora-hoodie', description: 'Warm fleece hoodie.' },
      { id: uuid(2), title: 'Cedar Candle', slug: 'cedar-candle', description: 'Scented candle.' },
      { id: uuid(3), title: 'Ember Mug', slug: 'ember-mug', description: 'Ceramic mug.' },
    ],
  });
  await prisma.productVariant.createMany({
    data: [
      { id: uuid(11), productId: uuid(1), sku: 'AUR-M', title: 'M', priceAmount: 5200, stockOnHand: 5, position: 0 },
      { id: uuid(12), productId: uuid(1), sku: 'AUR-L', title: 'L', priceAmount: 5800, stockOnHand: 0, position: 1 },
      {
        id: uuid(21),
        productId: uuid(2),
        sku: 'CANDLE',
        title: 'Default',
        priceAmount: 1250,
        stockOnHand: 3,
        position: 0,
      },
    ],
  });
  await prisma.productCategory.createMany({
    data: [
      { productId: uuid(1), categoryId: uuid(102) },
      { productId: uuid(2), categoryId: uuid(103) },
      { productId: uuid(3), categoryId: uuid(103) },
    ],
  });
}
