// Mapping the schema of a production server: introspection is off however it is asked for, and no error suggests a
// name the client did not know ("Did you mean …?"), whether the misspelling is in the document or in its variables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { expectNoLeak, expectRefused, get, gql, startProductionServer, withoutQueries } from './support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer();
});
afterAll(() => server?.close());

const INTROSPECTION_REFUSED = {
  status: 400,
  code: 'GRAPHQL_VALIDATION_FAILED',
  message: /^GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type\./,
};

describe('introspection in production', () => {
  it.each([
    ['__schema', '{ __schema { types { name fields { name } } } }'],
    ['__type', '{ __type(name: "Account") { fields { name type { name } } } }'],
    ['an aliased __schema', '{ s: __schema { queryType { name } } }'],
    ['__schema inside a fragment', '{ ...F } fragment F on Query { __schema { types { name } } }'],
    ['__type inside an inline fragment', '{ ... on Query { __type(name: "Order") { name } } }'],
    ['__schema next to an ordinary field', '{ products(first: 1) { totalCount } __schema { mutationType { name } } }'],
  ])('refuses %s', async (_, query) => {
    expectRefused(await withoutQueries(server, () => gql(server, query)), INTROSPECTION_REFUSED);
  });

  it('refuses __schema over GET', async () => {
    const res = await withoutQueries(server, () => get(server, { query: '{ __schema { types { name } } }' }));
    expectRefused(res, INTROSPECTION_REFUSED);
  });

  it('still answers __typename', async () => {
    const res = await gql(server, '{ __typename products(first: 1) { __typename } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ __typename: 'Query', products: { __typename: 'ProductConnection' } });
  });
});

describe('field suggestions in production', () => {
  it.each([
    ['field', '{ prodcts { totalCount } }', 'Cannot query field "prodcts" on type "Query".'],
    ['field of an object', '{ products { nodes { titel } } }', 'Cannot query field "titel" on type "Product".'],
    ['argument', '{ products(frist: 1) { totalCount } }', 'Unknown argument "frist" on field "Query.products".'],
    [
      'enum value',
      '{ products(sortKey: TITEL) { totalCount } }',
      'Value "TITEL" does not exist in "ProductSortKeys" enum.',
    ],
    [
      'input field',
      '{ products(filter: { qurey: "x" }) { totalCount } }',
      'Field "qurey" is not defined by type "ProductFilter".',
    ],
    ['type condition', '{ products { nodes { ... on Prodct { id } } } }', 'Unknown type "Prodct".'],
    [
      'variable type',
      'query ($f: ProductFiltr) { products(filter: $f) { totalCount } }',
      'Unknown type "ProductFiltr".',
    ],
  ])('are not made for a misspelled %s in the document', async (_, query, message) => {
    const res = await withoutQueries(server, () => gql(server, query));
    expectRefused(res, { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message });
    expect(res.text).not.toMatch(/did you mean/i);
  });

  it.each([
    [
      'enum value',
      'query ($s: ProductSortKeys) { products(sortKey: $s) { totalCount } }',
      { s: 'TITEL' },
      'Variable "$s" got invalid value "TITEL"; Value "TITEL" does not exist in "ProductSortKeys" enum.',
    ],
    [
      'input field',
      'query ($f: ProductFilter) { products(filter: $f) { totalCount } }',
      { f: { qurey: 'x' } },
      'Variable "$f" got invalid value { qurey: "x" }; Field "qurey" is not defined by type "ProductFilter".',
    ],
    [
      'role',
      'query ($r: Role) { accounts(role: $r) { totalCount } }',
      { r: 'ADMN' },
      'Variable "$r" got invalid value "ADMN"; Value "ADMN" does not exist in "Role" enum.',
    ],
  ])('are not made for a misspelled %s in the variables', async (_, query, variables, message) => {
    const res = await withoutQueries(server, () => gql(server, query, variables));
    expect(res.text).not.toMatch(/did you mean/i);
    expectRefused(res, { status: 400, code: 'BAD_USER_INPUT', message });
  });
});

describe('the landing page in production', () => {
  it('is not served, so no Sandbox explores the schema', async () => {
    const res = await withoutQueries(server, () => fetch(server.url, { headers: { accept: 'text/html' } }));
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toMatch(/<html|sandbox|embeddable/i);
    expectNoLeak(text);
  });
});
