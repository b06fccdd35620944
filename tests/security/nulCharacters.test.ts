// PostgreSQL text cannot hold U+0000. A NUL character anywhere a client can put one (a string literal, a variable, a
// nested input object, a list, or hidden inside the base64 of a cursor or a global ID) is refused as BAD_USER_INPUT
// before a single SQL statement is sent, for anonymous and signed-in clients alike, over every transport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/graphql/connection.js';
import { toGlobalId } from '../../src/graphql/globalId.js';
import type { TestServer } from '../support/testServer.js';
import { expectNoLeak, seedSmallCatalog, startProductionServer, uuid, withoutQueries } from './support.js';
import { expectRefusedOutcome as expectRefused, TRANSPORTS, type Outcome } from './transports.js';

let server: TestServer;
let customer: string;

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all' });
  await seedSmallCatalog(server.prisma);
  customer = await server.tokenFor('CUSTOMER');
});
afterAll(() => server?.close());

const NUL_REFUSAL = { status: 400, code: 'BAD_USER_INPUT', message: 'Text cannot contain the NUL character (U+0000).' };

const CREATE_CART =
  'mutation ($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } userErrors { code } } }';
const VARIANT = toGlobalId('ProductVariant', uuid(11));

/** Documents and variables that carry a NUL somewhere. */
const IN_THE_REQUEST: [string, string, Record<string, unknown>?][] = [
  ['an inline string literal', '{ product(slug: "aurora\\u0000hoodie") { id } }'],
  ['a literal in a nested input object', '{ products(filter: { query: "hood\\u0000ie" }) { totalCount } }'],
  ['a variable', 'query ($s: String!) { product(slug: $s) { id } }', { s: 'aurora\u0000' }],
  ['a variable default', 'query ($s: String = "a\\u0000") { product(slug: $s) { id } }'],
  ['a nested input object', CREATE_CART, { input: { email: 'a\u0000@example.test', lines: [] } }],
  [
    'a list inside an input object',
    CREATE_CART,
    { input: { lines: [{ variantId: `${VARIANT}\u0000`, quantity: 1 }] } },
  ],
  ['a variable the document does not declare', '{ products { totalCount } }', { s: '\u0000' }],
];

describe.each(TRANSPORTS)('a NUL character in the request over %s', (name, transport) => {
  // GET refuses mutations for a reason of its own.
  const requests = IN_THE_REQUEST.filter(([, query]) => name !== 'HTTP GET' || !query.startsWith('mutation'));

  it.each(requests)('in %s is refused before any SQL', async (_, query, variables) => {
    expectRefused(await withoutQueries(server, () => transport(server, { query, variables })), NUL_REFUSAL);
  });

  // Refused before the session is looked up: not even that query is sent. (A socket looks its session up once, at
  // connection_init, before any operation.)
  it.skipIf(name === 'WebSocket').each(requests)(
    'in %s is refused for a signed-in client too, before any SQL',
    async (_, query, variables) => {
      expectRefused(await withoutQueries(server, () => transport(server, { query, variables }, customer)), NUL_REFUSAL);
    },
  );

  it('raw in the document is refused before any SQL', async () => {
    const res = await withoutQueries(server, () =>
      transport(server, { query: '{ product(slug: "aurora\u0000") { id } }' }),
    );
    if (res.status !== undefined) expect(res.status, res.text).toBe(400);
    expect(
      res.errors?.map((error) => error.extensions?.code),
      res.text,
    ).toEqual(['BAD_USER_INPUT']);
    expectNoLeak(res.text);
  });
});

const base64 = (text: string) => Buffer.from(text).toString('base64url');

/** Arguments whose base64 payload hides a NUL: each answers BAD_USER_INPUT for its argument, with no SQL. */
const HIDDEN: [string, string, Record<string, unknown>][] = [
  [
    'a product cursor sorted by title',
    'query ($c: String) { products(sortKey: TITLE, after: $c) { totalCount } }',
    { c: encodeCursor(['TITLE', 'Aurora\u0000', uuid(1)]) },
  ],
  [
    'a product cursor read backwards',
    'query ($c: String) { products(sortKey: TITLE, last: 1, before: $c) { totalCount } }',
    { c: encodeCursor(['TITLE', '\u0000', uuid(1)]) },
  ],
  [
    'a category cursor',
    'query ($c: String) { categories(after: $c) { totalCount } }',
    { c: encodeCursor(['Apparel\u0000', uuid(101)]) },
  ],
  [
    'a cursor whose ID carries a NUL',
    'query ($c: String) { categories(after: $c) { totalCount } }',
    { c: encodeCursor(['Apparel', `${uuid(101)}\u0000`]) },
  ],
  [
    'a cursor with a NUL after its JSON',
    'query ($c: String) { categories(after: $c) { totalCount } }',
    { c: base64(`${JSON.stringify(['Apparel', uuid(101)])}\u0000`) },
  ],
  [
    'a global ID whose type carries a NUL',
    'query ($id: ID!) { node(id: $id) { id } }',
    { id: base64(`Product\u0000:${uuid(1)}`) },
  ],
  ['a global ID of a NUL type', 'query ($id: ID!) { node(id: $id) { id } }', { id: base64(`\u0000:${uuid(1)}`) }],
  [
    'a global ID among several',
    'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }',
    { ids: [base64(`Category\u0000:${uuid(101)}`)] },
  ],
  [
    'a global ID in a lookup',
    'query ($id: ID!) { product(id: $id) { id } }',
    { id: base64(`Product:${uuid(1)}\u0000`) },
  ],
];

function expectBadArgument(res: Outcome) {
  if (res.status !== undefined) expect(res.status, res.text).toBe(200);
  const codes = res.errors?.map((error) => error.extensions?.code);
  expect(codes, res.text).toEqual(['BAD_USER_INPUT']);
  expectNoLeak(res.text);
}

describe.each(TRANSPORTS)('a NUL character hidden in base64 over %s', (_, transport) => {
  it.each(HIDDEN)('in %s is refused as BAD_USER_INPUT with no SQL', async (_, query, variables) => {
    const res = await withoutQueries(server, () => transport(server, { query, variables }));
    if (query.includes('product(id:')) {
      // a lookup by ID answers "nothing" for an ID that cannot be one, without asking the database
      expect(res.errors, res.text).toBeUndefined();
      expect(res.data, res.text).toEqual({ product: null });
      expectNoLeak(res.text);
    } else expectBadArgument(res);
  });
});
