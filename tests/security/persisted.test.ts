// Persisted operations. In strict trusted-documents mode only the operations in the front end's manifest run (by
// hash, or by their exact text); anything else is refused with 403 before it executes, and clients cannot register
// new ones. Staff tooling is exempt when configured. Outside strict mode, automatic persisted queries work as Apollo
// clients expect, and a hash never lets a query skip the limits. All of it alike over HTTP POST, GET and WebSocket.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { seedSmallCatalog, sha256, startProductionServer, withoutQueries } from './support.js';
import { expectRefusedOutcome as expectRefused, TRANSPORTS, type Outcome } from './transports.js';

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
function expectNotFound(res: Outcome) {
  if (res.status !== undefined) expect(res.status, res.text).toBe(200);
  expect(res.data).toBeUndefined();
  expect(res.errors).toEqual([
    { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
  ]);
}

function expectData(res: Outcome, data: unknown) {
  if (res.status !== undefined) expect(res.status, res.text).toBe(200);
  expect(res.errors, res.text).toBeUndefined();
  expect(res.data).toEqual(data);
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
    WEBSOCKET_OPERATIONS: 'all',
  });
  apq = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all' });
  await seedSmallCatalog(strict.prisma);
  await seedSmallCatalog(apq.prisma);
});
afterAll(async () => {
  await Promise.all([strict?.close(), apq?.close()]);
  if (manifestDir) rmSync(manifestDir, { recursive: true, force: true });
});

describe.each(TRANSPORTS)('over %s', (name, transport) => {
  describe('strict trusted documents', () => {
    it('runs a listed operation by its hash', async () => {
      expectData(await transport(strict, byHash(sha256(TITLES), { first: 10 })), TITLES_DATA);
      expectData(await transport(strict, byHash(sha256(CATEGORY), { slug: 'home' })), { category: { name: 'Home' } });
    });

    it('runs a listed operation sent as its exact text', async () => {
      expectData(await transport(strict, { query: TITLES, variables: { first: 10 } }), TITLES_DATA);
    });

    it.each([
      ['an unlisted query', UNLISTED],
      ['a listed query with a field added', TITLES.replace('title', 'title description')],
      ['a listed query with its whitespace changed', TITLES.replace('{ products', '{  products')],
      // GET refuses mutations with 405, for a reason of its own
      ...(name === 'HTTP GET'
        ? []
        : [
            [
              'an unlisted mutation',
              'mutation { logIn(input: { email: "a@example.test", password: "x" }) { userErrors { code } } }',
            ],
          ]),
    ])('refuses %s with 403, without a database query', async (_, query) => {
      expectRefused(await withoutQueries(strict, () => transport(strict, { query, variables: {} })), NOT_TRUSTED);
    });

    it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, without a database query', async () => {
      expectNotFound(await withoutQueries(strict, () => transport(strict, byHash(sha256(UNLISTED)))));
    });

    it('refuses to register a new query, and still does not know its hash afterwards', async () => {
      const register = { query: UNLISTED, extensions: persisted(sha256(UNLISTED)) };
      expectRefused(await withoutQueries(strict, () => transport(strict, register)), NOT_TRUSTED);
      expectNotFound(await withoutQueries(strict, () => transport(strict, byHash(sha256(UNLISTED)))));
    });

    it('refuses an unlisted query smuggled under a listed hash', async () => {
      const res = await withoutQueries(strict, () =>
        transport(strict, { query: UNLISTED, extensions: persisted(sha256(TITLES)) }),
      );
      expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: 'provided sha does not match query' });
      // the listed hash still means the listed query
      expectData(await transport(strict, byHash(sha256(TITLES), { first: 10 })), TITLES_DATA);
    });

    it.each([
      ['by hash', byHash(sha256(TITLES), { first: 99999999 })],
      ['as text', { query: TITLES, variables: { first: 99999999 } }],
    ])('still applies the limits to the variables of a listed operation sent %s', async (_, body) => {
      const res = await withoutQueries(strict, () => transport(strict, body));
      expectRefused(res, { status: 400, code: 'MAX_COST_EXCEEDED', maximum: 1000, found: 100000001 });
    });

    it.each(['STAFF', 'ADMIN'] as const)('lets %s run unlisted operations', async (role) => {
      const token = await strict.tokenFor(role);
      const res = await transport(strict, { query: UNLISTED }, token);
      expect(res.errors, res.text).toBeUndefined();
      expect((res.data as { products: { nodes: unknown[] } }).products.nodes).toHaveLength(3);
    });

    it('does not let a customer run unlisted operations', async () => {
      const token = await strict.tokenFor('CUSTOMER');
      expectRefused(await transport(strict, { query: UNLISTED }, token), NOT_TRUSTED);
      expectData(await transport(strict, byHash(sha256(TITLES), { first: 10 }), token), TITLES_DATA);
    });
  });

  describe('automatic persisted queries (trusted documents off)', () => {
    it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then registers the query, then runs it by hash', async () => {
      const query = `{ products(first: 10) { nodes { title } } } # registered over ${name}`;
      expectNotFound(await withoutQueries(apq, () => transport(apq, byHash(sha256(query)))));
      expectData(await transport(apq, { query, extensions: persisted(sha256(query)) }), TITLES_DATA);
      for (const [, other] of TRANSPORTS) expectData(await other(apq, byHash(sha256(query))), TITLES_DATA);
    });

    it('refuses a query whose hash does not match it', async () => {
      const res = await withoutQueries(apq, () =>
        transport(apq, { query: UNLISTED, extensions: persisted(sha256('{ __typename }')) }),
      );
      expectRefused(res, { status: 400, code: 'BAD_REQUEST', message: 'provided sha does not match query' });
    });

    it('does not register a query the limits refuse', async () => {
      const deep = `{ category(slug: "x") { ${'parent { '.repeat(15)}id${' }'.repeat(15)} } }`;
      const register = await withoutQueries(apq, () =>
        transport(apq, { query: deep, extensions: persisted(sha256(deep)) }),
      );
      expectRefused(register, { status: 400, code: 'DEPTH_LIMIT_EXCEEDED', maximum: 12, found: 17 });
      expectNotFound(await withoutQueries(apq, () => transport(apq, byHash(sha256(deep)))));
    });

    it('checks the cost of a registered query against each request’s variables', async () => {
      const query = 'query Page($n: Int) { products(first: $n) { nodes { id } } }';
      const registered = await transport(apq, { query, variables: { n: 1 }, extensions: persisted(sha256(query)) });
      expect(registered.errors, registered.text).toBeUndefined();
      const res = await withoutQueries(apq, () => transport(apq, byHash(sha256(query), { n: 99999999 })));
      expectRefused(res, { status: 400, code: 'MAX_COST_EXCEEDED', maximum: 1000, found: 100000001 });
    });
  });
});
