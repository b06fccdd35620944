// Attacks on the shape of a document: too deep, too many aliases, directives, tokens, characters or mutations,
// fields repeated thousands of times, fragments that cycle or multiply. Each is refused while parsing or validating,
// before anything executes, so the database never hears of it, whichever transport brings it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { expectRefused, post, startProductionServer, withoutQueries } from './support.js';
import { expectRefusedOutcome, TRANSPORTS, type Outcome } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all' });
});
afterAll(() => server?.close());

const repeat = (count: number, make: (i: number) => string, separator = ' ') =>
  Array.from({ length: count }, (_, i) => make(i)).join(separator);

/** `category { parent { parent { … id } } }` with `parents` levels of parent: depth parents + 2. */
const parentChain = (parents: number) =>
  `{ category(slug: "x") { ${'parent { '.repeat(parents)}id${' }'.repeat(parents)} } }`;

function expectAnswered(outcome: Outcome) {
  if (outcome.status !== undefined) expect(outcome.status, outcome.text).toBe(200);
  expect(outcome.errors, outcome.text).toBeUndefined();
}

describe.each(TRANSPORTS)('over %s', (name, transport) => {
  /** Sends a document as an anonymous client and returns the answer, asserting no SQL was sent meanwhile. */
  const refuse = (query: string, variables?: Record<string, unknown>) =>
    withoutQueries(server, () => transport(server, { query, variables }));
  const ask = (query: string, token?: string) => transport(server, { query }, token);
  /** GET refuses these for reasons of its own: a URL this long (431), a mutation (405). */
  const overGet = name === 'HTTP GET';

  describe('deep nesting', () => {
    it('refuses a query 17 levels deep', async () => {
      expectRefusedOutcome(await refuse(parentChain(15)), {
        status: 400,
        code: 'DEPTH_LIMIT_EXCEEDED',
        message: 'Query depth limit of 12 exceeded, found 17.',
        maximum: 12,
        found: 17,
      });
    });

    it('refuses depth hidden in fragments', async () => {
      const query = `{ category(slug: "x") { ...Up } }
      fragment Up on Category { parent { ...Up2 } }
      fragment Up2 on Category { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } }`;
      // GraphQL Armor counts each spread as a level of its own.
      expectRefusedOutcome(await refuse(query), { status: 400, code: 'DEPTH_LIMIT_EXCEEDED', maximum: 12, found: 15 });
    });

    // A socket looks its session up once, at connection_init, before any operation.
    it.skipIf(name === 'WebSocket')('refuses a signed-in client too, before looking up its session', async () => {
      const token = await server.tokenFor('CUSTOMER');
      const res = await withoutQueries(server, () => ask(parentChain(15), token));
      expectRefusedOutcome(res, { status: 400, code: 'DEPTH_LIMIT_EXCEEDED', maximum: 12, found: 17 });
    });

    it('answers a query exactly 12 levels deep', async () => {
      const res = await ask(parentChain(10));
      expectAnswered(res);
      expect(res.data).toEqual({ category: null });
    });
  });

  describe('alias flood', () => {
    const alias = (i: number) => `a${i}: products(first: 1) { totalCount }`;

    it('refuses 31 aliases', async () => {
      expectRefusedOutcome(await refuse(`{ ${repeat(31, alias)} }`), {
        status: 400,
        code: 'ALIAS_LIMIT_EXCEEDED',
        message: 'Aliases limit of 30 exceeded, found 31.',
        maximum: 30,
        found: 31,
      });
    });

    it('refuses 300 aliases', async () => {
      expectRefusedOutcome(await refuse(`{ ${repeat(300, (i) => `a${i}: viewer { id }`)} }`), {
        status: 400,
        code: 'ALIAS_LIMIT_EXCEEDED',
        maximum: 30,
        found: 300,
      });
    });

    it('counts the aliases of a fragment each time it is spread', async () => {
      const query = `{ ...Eight ... on Query { ...Eight } ... on Query { ...Eight } ... on Query { ...Eight } }
      fragment Eight on Query { ${repeat(8, alias)} }`;
      expectRefusedOutcome(await refuse(query), { status: 400, code: 'ALIAS_LIMIT_EXCEEDED', maximum: 30, found: 32 });
    });

    it('answers 30 aliases', async () => {
      const res = await ask(`{ ${repeat(30, (i) => `a${i}: category(slug: "x${i}") { id }`)} }`);
      expectAnswered(res);
      expect(Object.keys(res.data as object)).toHaveLength(30);
    });
  });

  describe('field duplication', () => {
    it.skipIf(overGet)('refuses the same field 5,000 times at the token limit', async () => {
      expectRefusedOutcome(await refuse(`{ ${'__typename '.repeat(5000)}}`), {
        status: 400,
        code: 'TOKEN_LIMIT_EXCEEDED',
        message: 'The query has more than 2000 tokens, the maximum; parsing stopped there.',
        maximum: 2000,
      });
    });

    it.skipIf(overGet)(
      'refuses the same field 1,500 times (within the token limit) quickly, when comparing them gets too costly',
      async () => {
        const started = performance.now();
        const res = await refuse(`{ products(first: 100) { ${'totalCount '.repeat(1500)}} }`);
        expectRefusedOutcome(res, { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: 'Validation aborted.' });
        expect(performance.now() - started).toBeLessThan(2000);
      },
    );

    const copies = (n: number) => `{ ${'products(first: 5) { nodes { id } } '.repeat(n)}}`;

    it('runs a hundred copies of a field once, though it reserves the cost of each copy', async () => {
      const once = await ask(copies(1));
      const many = await ask(copies(100));
      expectAnswered(many);
      expect(many.data).toEqual(once.data);
      expect(once.extensions?.cost).toMatchObject({ requestedQueryCost: 7, actualQueryCost: 2 });
      expect(many.extensions?.cost).toMatchObject({ requestedQueryCost: 700, actualQueryCost: 2 });
    });

    it('refuses 150 copies of a field at the cost limit', async () => {
      expectRefusedOutcome(await refuse(copies(150)), {
        status: 400,
        code: 'MAX_COST_EXCEEDED',
        maximum: 1000,
        found: 1050,
      });
    });
  });

  describe('directive flood', () => {
    it('refuses 51 directives', async () => {
      expectRefusedOutcome(await refuse(`{ ${'__typename @include(if: true) '.repeat(51)}}`), {
        status: 400,
        code: 'DIRECTIVE_LIMIT_EXCEEDED',
        message: 'Directives limit of 50 exceeded, found 51.',
        maximum: 50,
        found: 51,
      });
    });

    it('counts the directives of a fragment each time it is spread', async () => {
      const query = `{ a: category(slug: "a") { ...D } b: category(slug: "b") { ...D } c: category(slug: "c") { ...D } }
      fragment D on Category { ${'id @skip(if: false) '.repeat(20)}}`;
      expectRefusedOutcome(await refuse(query), {
        status: 400,
        code: 'DIRECTIVE_LIMIT_EXCEEDED',
        maximum: 50,
        found: 60,
      });
    });

    it('answers 50 directives', async () => {
      const res = await ask(`{ ${'__typename @include(if: true) '.repeat(50)}}`);
      expectAnswered(res);
      expect(res.data).toEqual({ __typename: 'Query' });
    });
  });

  describe('fragment cycles', () => {
    it.each([
      [
        'a fragment spreading itself',
        '{ ...A } fragment A on Query { __typename ...A }',
        'Cannot spread fragment "A" within itself.',
      ],
      [
        'two fragments spreading each other',
        '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }',
        'Cannot spread fragment "A" within itself via "B".',
      ],
      [
        'a cycle through three fragments',
        '{ products { nodes { ...A } } } fragment A on Product { variants { ...B } } fragment B on ProductVariant { product { ...C } } fragment C on Product { ...A }',
        'Cannot spread fragment "A" within itself via "B", "C".',
      ],
    ])('refuses %s', async (_, query, message) => {
      expectRefusedOutcome(await refuse(query), { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message });
    });
  });

  describe('fragment bombs', () => {
    /** Fragments F0…F(levels-1), each spreading the next `fan` times; the last holds `leaf`. */
    const bomb = (levels: number, fan: number, type: string, leaf: string) =>
      `${repeat(levels, (i) => `fragment F${i} on ${type} { ${`...F${i + 1} `.repeat(fan)}}`, '\n')}
     fragment F${levels} on ${type} { ${leaf} }`;

    it('refuses 2^30 spreads chained 30 deep, at the depth limit, at once', async () => {
      const started = performance.now();
      const res = await refuse(`{ ...F0 } ${bomb(30, 2, 'Query', '__typename')}`);
      expectRefusedOutcome(res, { status: 400, code: 'DEPTH_LIMIT_EXCEEDED', maximum: 12, found: 63 });
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it.each([
      ['10^4 spreads of a connection', 4, 10, 'Query', '{ ...F0 }', 'products(first: 1) { totalCount }'],
      ['30^3 spreads of a connection', 3, 30, 'Query', '{ ...F0 }', 'products(first: 1) { totalCount }'],
      [
        '25^3 spreads inside each product',
        3,
        25,
        'Product',
        '{ products(first: 1) { nodes { ...F0 } } }',
        'variants { id }',
      ],
    ])(
      'refuses %s (shallow enough for the depth limit) before expanding them',
      async (_, levels, fan, type, root, leaf) => {
        const started = performance.now();
        const res = await refuse(`${root} ${bomb(levels, fan, type, leaf)}`);
        expectRefusedOutcome(res, {
          status: 400,
          code: 'MAX_COST_EXCEEDED',
          message: 'The query expands to more than 10000 selections, too many to calculate its cost.',
        });
        expect(performance.now() - started).toBeLessThan(2000);
      },
    );
  });

  describe('oversized documents', () => {
    it.skipIf(overGet)('refuses a query of 25,000 characters (a long comment)', async () => {
      const query = `# ${'x'.repeat(25_000)}\n{ __typename }`;
      expectRefusedOutcome(await refuse(query), {
        status: 400,
        code: 'QUERY_TOO_LONG',
        message: `The query is ${query.length} characters long, above the maximum of 20000.`,
        maximum: 20_000,
        found: query.length,
      });
    });

    it.skipIf(overGet)('refuses a query whose string argument makes it too long', async () => {
      const query = `{ product(slug: "${'a'.repeat(20_000)}") { id } }`;
      expectRefusedOutcome(await refuse(query), {
        status: 400,
        code: 'QUERY_TOO_LONG',
        maximum: 20_000,
        found: query.length,
      });
    });

    it.skipIf(overGet)('refuses 2,001 tokens, and parses 2,000', async () => {
      // { nodes ( ids : [ …N… ] ) { __typename } } is 12 tokens and the N IDs.
      const ids = (n: number) => `{ nodes(ids: [${repeat(n, (i) => `"${i}"`, ',')}]) { __typename } }`;
      expectRefusedOutcome(await refuse(ids(1989)), { status: 400, code: 'TOKEN_LIMIT_EXCEEDED', maximum: 2000 });
      // 2,000 tokens parse; that many IDs are then too costly, a refusal of its own.
      expectRefusedOutcome(await refuse(ids(1988)), {
        status: 400,
        code: 'MAX_COST_EXCEEDED',
        maximum: 1000,
        found: 1988,
      });
    });
  });

  describe.skipIf(overGet)('mutation batching through aliases', () => {
    const victim = `victim-${name.replace(/\W/g, '')}@example.test`;
    const logIn = (i: number) =>
      `m${i}: logIn(input: { email: "${victim}", password: "guess${i}" }) { userErrors { code } }`;

    it('refuses six mutations in one operation', async () => {
      expectRefusedOutcome(await refuse(`mutation { ${repeat(6, logIn)} }`), {
        status: 400,
        code: 'MUTATION_LIMIT_EXCEEDED',
        message: 'The operation runs 6 mutations, above the maximum of 5.',
        maximum: 5,
        found: 6,
      });
    });

    it('counts mutations inside fragments', async () => {
      const query = `mutation { ...Three ... on Mutation { ${repeat(3, (i) => logIn(i + 10))} } }
      fragment Three on Mutation { ${repeat(3, logIn)} }`;
      expectRefusedOutcome(await refuse(query), { status: 400, code: 'MUTATION_LIMIT_EXCEEDED', maximum: 5, found: 6 });
    });

    it('runs five', async () => {
      const res = await ask(`mutation { ${repeat(5, logIn)} }`);
      expectAnswered(res);
      expect(Object.values(res.data as object)).toEqual(
        Array(5).fill({ userErrors: [{ code: 'INVALID_CREDENTIALS' }] }),
      );
    });
  });
});

describe('a body above 1 MiB (HTTP only)', () => {
  it('is refused with 413', async () => {
    const res = await withoutQueries(server, () =>
      post(server, { query: '{ __typename }', variables: { padding: 'x'.repeat(1_048_576) } }),
    );
    expectRefused(res, {
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'The request body is larger than the maximum of 1048576 bytes.',
      maximum: 1_048_576,
    });
  });
});
