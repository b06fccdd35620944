// Mapping the schema of a production server: introspection is off however it is asked for, and no error suggests a
// name the client did not know ("Did you mean …?"), whether the misspelling is in the document or in its variables,
// over whichever transport it is asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { expectNoLeak, startProductionServer, withoutQueries } from './support.js';
import { expectRefusedOutcome, TRANSPORTS } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all' });
});
afterAll(() => server?.close());

const INTROSPECTION_REFUSED = {
  status: 400,
  code: 'GRAPHQL_VALIDATION_FAILED',
  message: /^GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type\./,
};

describe.each(TRANSPORTS)('introspection in production over %s', (_, transport) => {
  it.each([
    ['__schema', '{ __schema { types { name fields { name } } } }'],
    ['__type', '{ __type(name: "Account") { fields { name type { name } } } }'],
    ['an aliased __schema', '{ s: __schema { queryType { name } } }'],
    ['__schema inside a fragment', '{ ...F } fragment F on Query { __schema { types { name } } }'],
    ['__type inside an inline fragment', '{ ... on Query { __type(name: "Order") { name } } }'],
    ['__schema next to an ordinary field', '{ products(first: 1) { totalCount } __schema { mutationType { name } } }'],
  ])('refuses %s', async (_, query) => {
    expectRefusedOutcome(await withoutQueries(server, () => transport(server, { query })), INTROSPECTION_REFUSED);
  });

  it('still answers __typename', async () => {
    const outcome = await transport(server, { query: '{ __typename products(first: 1) { __typename } }' });
    expect(outcome.errors, outcome.text).toBeUndefined();
    expect(outcome.data).toEqual({ __typename: 'Query', products: { __typename: 'ProductConnection' } });
  });
});

describe.each(TRANSPORTS)('field suggestions in production over %s', (_, transport) => {
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
    const outcome = await withoutQueries(server, () => transport(server, { query }));
    expectRefusedOutcome(outcome, { status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message });
    expect(outcome.text).not.toMatch(/did you mean/i);
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
    const outcome = await withoutQueries(server, () => transport(server, { query, variables }));
    expect(outcome.text).not.toMatch(/did you mean/i);
    expectRefusedOutcome(outcome, { status: 400, code: 'BAD_USER_INPUT', message });
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
