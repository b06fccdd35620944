// Lists with nested relations cost a fixed number of SQL statements, however many rows they return: every relation
// goes through a per-request DataLoader. Counted on the wire between the server and the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalog } from '../src/db/seed/catalog.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/** The most statements any of these reads may cost. */
const MAX_STATEMENTS = 5;

const PRODUCTS_QUERY = `
  query ($n: Int!) {
    products(first: $n) { nodes { variants { sku price { amount } } categories { name } } }
  }`;

const CATEGORIES_QUERY = `
  query ($n: Int!) {
    categories(first: $n) {
      nodes { products(first: 10) { nodes { title variants { sku } } } children { name } parent { name } }
    }
  }`;

const NODES_QUERY = `
  query ($ids: [ID!]!) {
    nodes(ids: $ids) { ... on Product { title variants { sku price { amount } } categories { name } } }
  }`;

let server: TestServer;

beforeAll(async () => {
  // Pages of 100 with nested lists cost more than a client may ask for; this file measures batching, not cost.
  server = await startTestServer({ countStatements: true, env: { MAX_QUERY_COST: '100000' } });
  await seedCatalog(server.prisma, { products: 120 });
});
afterAll(() => server?.close());

interface Measurement {
  count: number;
  statements: string[];
  data: any;
}

/** Runs one operation with a fresh counter and returns the statements it cost. */
async function measure(query: string, variables: Record<string, unknown>, token?: string): Promise<Measurement> {
  server.statements!.reset();
  const response = await server.gql(query, variables, token);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  const statements = server.statements!.statements();
  return { count: statements.length, statements, data: response.data };
}

function report(label: string, measurement: Measurement): void {
  const statements = measurement.statements.map((sql) => `  ${sql.replace(/\s+/g, ' ').trim()}`);
  console.log(`${label}: ${measurement.count} statements\n${statements.join('\n')}`);
}

type Size = [label: string, variables: Record<string, unknown>];

/** Measures the same operation at a small and a large size; both must cost the same few statements. */
async function expectConstantCost(
  name: string,
  query: string,
  small: Size,
  large: Size,
  tokens: [small?: string, large?: string] = [],
) {
  const measured = [await measure(query, small[1], tokens[0]), await measure(query, large[1], tokens[1])] as const;
  report(`${name} (${small[0]})`, measured[0]);
  report(`${name} (${large[0]})`, measured[1]);
  expect(measured[1].count).toBe(measured[0].count);
  expect(measured[1].count).toBeLessThanOrEqual(MAX_STATEMENTS);
  return measured;
}

describe('statements per request do not grow with the page size', () => {
  it('products with variants and categories: first 10 vs first 100', async () => {
    const [small, large] = await expectConstantCost(
      'products',
      PRODUCTS_QUERY,
      ['first: 10', { n: 10 }],
      ['first: 100', { n: 100 }],
    );
    expect(small.data.products.nodes).toHaveLength(10);
    expect(large.data.products.nodes).toHaveLength(100);
    // the variants and categories the query reads come with the page, in its one statement
    expect(large.count).toBe(1);
    // the rows are really there: every seeded product has at least one variant and one category
    for (const node of large.data.products.nodes) {
      expect(node.variants.length).toBeGreaterThan(0);
      expect(node.categories.length).toBeGreaterThan(0);
    }
  });

  it('categories with their products, children and parent: first 5 vs first 20', async () => {
    const [small, large] = await expectConstantCost(
      'categories',
      CATEGORIES_QUERY,
      ['first: 5', { n: 5 }],
      ['first: 20', { n: 20 }],
    );
    expect(small.data.categories.nodes).toHaveLength(5);
    expect(large.data.categories.nodes).toHaveLength(20);
    const nodes = large.data.categories.nodes as any[];
    // the page mixes departments (with children and products of their subtree) and subcategories (with a parent)
    expect(nodes.some((node) => node.parent !== null)).toBe(true);
    expect(nodes.some((node) => node.children.length > 0)).toBe(true);
    expect(nodes.filter((node) => node.products.nodes.length === 10).length).toBeGreaterThan(1);
  });

  it('nodes(ids:) with products: 10 vs 50 IDs', async () => {
    const page = await server.gql('{ products(first: 50) { nodes { id } } }');
    const ids = (page.data.products.nodes as { id: string }[]).map((node) => node.id);
    expect(ids).toHaveLength(50);
    const [small, large] = await expectConstantCost(
      'nodes',
      NODES_QUERY,
      ['10 IDs', { ids: ids.slice(0, 10) }],
      ['50 IDs', { ids }],
    );
    expect(small.data.nodes).toHaveLength(10);
    expect(large.data.nodes).toHaveLength(50);
    expect(large.data.nodes.every((node: any) => node.title && node.variants.length > 0)).toBe(true);
  });
});

describe('ownership checks and account lists batch their loads', () => {
  const ADDRESS = {
    firstName: 'A',
    lastName: 'B',
    line1: '1 Main St',
    city: 'Berlin',
    postalCode: '10115',
    countryCode: 'DE',
  };

  async function customerWithAddresses(count: number) {
    const { accountId, sessionId } = await server.sessionFor('CUSTOMER');
    await server.prisma.address.createMany({ data: Array.from({ length: count }, () => ({ ...ADDRESS, accountId })) });
    const address = await server.prisma.address.findFirstOrThrow({ where: { accountId } });
    await server.prisma.account.update({ where: { id: accountId }, data: { defaultAddressId: address.id } });
    return { accountId, sessionId };
  }

  it('viewer with 10 vs 100 addresses, each field behind its owner rule', async () => {
    const tokens = await Promise.all(
      [10, 100].map(async (count) => server.tokenFor('CUSTOMER', await customerWithAddresses(count))),
    );
    const [small, large] = await expectConstantCost(
      'viewer addresses',
      '{ viewer { email addresses { id line1 city countryCode } defaultAddress { id } } }',
      ['10 addresses', {}],
      ['100 addresses', {}],
      [tokens[0], tokens[1]],
    );
    expect(small.data.viewer.addresses).toHaveLength(10);
    expect(large.data.viewer.addresses).toHaveLength(100);
  });

  it('staff listing 5 vs 20 accounts with their addresses', async () => {
    for (let i = 0; i < 20; i++) await customerWithAddresses(3);
    const staff = await server.tokenFor('STAFF');
    const [, large] = await expectConstantCost(
      'accounts',
      'query ($n: Int!) { accounts(first: $n, role: CUSTOMER) { nodes { email addresses { line1 } defaultAddress { city } } } }',
      ['first: 5', { n: 5 }],
      ['first: 20', { n: 20 }],
      [staff, staff],
    );
    expect(large.data.accounts.nodes).toHaveLength(20);
  });
});
