// Persisted operations. In strict trusted-documents mode only the operations in the front end's manifest run (by
// hash, or by their exact text); anything else is refused with 403 before it executes, and clients cannot register
// new ones. Staff tooling is exempt when configured. Outside strict mode, automatic persisted queries work as Apollo
// clients expect, and a hash never lets a query skip the limits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import {
  bearer,
  expectRefused,
  get,
  post,
  seedSmallCatalog,
  sha256,
  startProductionServer,
  withoutQueries,
  type RawResponse,
} from './support.js';

const TITLES = 'query ProductTitles($first: Int) { products(first: $first) { nodes { title } } }';
const CATEGORY = 'query CategoryName($slug: String!) { category(slug: $slug) { name } }';
const UNLISTED = '{ products(first: 3) { nodes { title description } } }';
const TITLES_DATA = {
  products: { nodes: [{ title: 'Aurora Hoodie' }, { title: 'Cedar Candle' }, { title: 'Ember Mug' }] },
};

const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const byHash = (hash: string, variables?: Record<string, unknown>) => ({ variables, extensions: persisted(hash) });

const NOT_TRUSTED = {
  status: 403,
  code: 'OPERATION_NOT_TRUSTED',
  message: 'Only the operations of this store’s apps may run here; this one is not among them.',
};

/** Apollo's answer to a hash it does not know: clients then send the query with it. */
function expectNotFound(res: RawResponse) {
  expect(res.status, res.text).toBe(200);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toEqual([
    { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
  ]);
}

function expectData(res: RawResponse, data: unknown) {
  expect(res.status, res.text).toBe(200);
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data).toEqual(data);
}

let manifestDir: string;
let strict: TestServer;
let apq: TestServer;

beforeAll(async () => {
  manifestDir = mkdtempSync(path.join(tmpdir(), 'agora-trusted-'));
  const manifest = path.join(manifestDir, 'persisted-documents.json');
  writeFileSync(manifest, JSON.stringify({ [sha256(TITLES)]: TITLES, [sha256(CATEGORY)]: CATEGORY }));
  strict = await startProductionServer({
    TRUSTED_DOCUMENTS: 'strict',
    TRUSTED_DOCUMENTS_MANIFEST: manifest,
    TRUSTED_DOCUMENTS_EXEMPT_ROLES: 'STAFF,ADMIN',
  });
  apq = await startProductionServer();
  await seedSmallCatalog(strict.prisma);
  await seedSmallCatalog(apq.prisma);
});
afterAll(async () => {
  await Promise.all([strict?.close(), apq?.close()]);
  if (manifestDir) rmSync(manifestDir, { recursive: true, force: true });
});

describe('strict trusted documents', () => {
  it('runs a listed operation by its hash', async () => {
    expectData(await post(strict, byHash(sha256(TITLES), { first: 10 })), TITLES_DATA);
    expectData(await post(strict, byHash(sha256(CATEGORY), { slug: 'home' })), { category: { name: 'Home' } });
  });

  it('runs a listed operation by its hash over GET', async () => {
    const res = await get(strict, {
      extensions: JSON.stringify(persisted(sha256(TITLES))),
      variables: JSON.stringify({ first: 10 }),
    });
    expectData(res, TITLES_DATA);
  });

  it('runs a listed operation sent as its exact text', async () => {
    expectData(await post(strict, { query: TITLES, variables: { first: 10 } }), TITLES_DATA);
  });

  it.each([
    ['an unlisted query', UNLISTED],
    ['a listed query with a field added', TITLES.replace('title', 'title description')],
    ['a listed query with its whitespace changed', TITLES.replace('{ products', '{  products')],
    [
      'an unlisted mutation',
      'mutation { logIn(input: { email: "a@example.test", password: "x" }) { userErrors { code } } }',
    ],
  ])('refuses %s with 403, without a database query', async (_, query) => {
    expectRefused(await withoutQueries(strict, () => post(strict, { query, variables: {} })), NOT_TRUSTED);
  });

  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, without a database query', async () => {
    expectNotFound(await withoutQueries(strict, () => post(strict, byHash(sha256(UNLISTED)))));
  });

  it('refuses to register a new query, and still does not know its hash afterwards', async () => {
    const register = { query: UNLISTED, extensions: persisted(sha256(UNLISTED)) };
    expectRefused(await withoutQueries(strict, () => post(strict, register)), NOT_TRUSTED);
    expectNotFound(await withoutQueries(strict, () => post(strict, byHash(sha256(UNLISTED)))));
  });

  it('refuses an unlisted query smuggled under a listed hash', async () => {
    const res = await withoutQueries(strict, () =>
      post(strict, { query: UNLISTED, extensions: persisted(sha256(TITLES)) }),
    );
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: 'provided sha does not match query' });
    // the listed hash still means the listed query
    expectData(await post(strict, byHash(sha256(TITLES), { first: 10 })), TITLES_DATA);
  });

  it.each([
    ['by hash', byHash(sha256(TITLES), { first: 99999999 })],
    ['as text', { query: TITLES, variables: { first: 99999999 } }],
  ])('still applies the limits to the variables of a listed operation sent %s', async (_, body) => {
    const res = await withoutQueries(strict, () => post(strict, body));
    expectRefused(res, { status: 400, code: 'MAX_COST_EXCEEDED', maximum: 1000, found: 100000001 });
  });

  it.each(['STAFF', 'ADMIN'] as const)('lets %s run unlisted operations', async (role) => {
    const token = await strict.tokenFor(role);
    const res = await post(strict, { query: UNLISTED }, bearer(token));
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.products.nodes).toHaveLength(3);
  });

  it('does not let a customer run unlisted operations', async () => {
    const token = await strict.tokenFor('CUSTOMER');
    expectRefused(await post(strict, { query: UNLISTED }, bearer(token)), NOT_TRUSTED);
    expectData(await post(strict, byHash(sha256(TITLES), { first: 10 }), bearer(token)), TITLES_DATA);
  });
});

describe('automatic persisted queries (trusted documents off)', () => {
  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then registers the query, then runs it by hash', async () => {
    const query = '{ products(first: 10) { nodes { title } } }';
    expectNotFound(await withoutQueries(apq, () => post(apq, byHash(sha256(query)))));
    expectData(await post(apq, { query, extensions: persisted(sha256(query)) }), TITLES_DATA);
    expectData(await post(apq, byHash(sha256(query))), TITLES_DATA);
    expectData(await get(apq, { extensions: JSON.stringify(persisted(sha256(query))) }), TITLES_DATA);
  });

  it('refuses a query whose hash does not match it', async () => {
    const res = await withoutQueries(apq, () =>
      post(apq, { query: UNLISTED, extensions: persisted(sha256('{ __typename }')) }),
    );
    expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: 'provided sha does not match query' });
  });

  it('does not register a query the limits refuse', async () => {
    const deep = `{ category(slug: "x") { ${'parent { '.repeat(15)}id${' }'.repeat(15)} } }`;
    const register = await withoutQueries(apq, () => post(apq, { query: deep, extensions: persisted(sha256(deep)) }));
    expectRefused(register, { status: 400, code: 'DEPTH_LIMIT_EXCEEDED', maximum: 12, found: 17 });
    expectNotFound(await withoutQueries(apq, () => post(apq, byHash(sha256(deep)))));
  });

  it('checks the cost of a registered query against each request’s variables', async () => {
    const query = 'query Page($n: Int) { products(first: $n) { nodes { id } } }';
    const registered = await post(apq, { query, variables: { n: 1 }, extensions: persisted(sha256(query)) });
    expect(registered.status, registered.text).toBe(200);
    const res = await withoutQueries(apq, () => post(apq, byHash(sha256(query), { n: 99999999 })));
    expectRefused(res, { status: 400, code: 'MAX_COST_EXCEEDED', maximum: 1000, found: 100000001 });
  });
});
