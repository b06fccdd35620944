import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createBareSchema } from '../schema.js';
import { CostModel, MUTATION_COST } from './cost.js';

const model = new CostModel(createBareSchema());
const cost = (query: string, variables: Record<string, unknown> = {}) =>
  model.requestedCost(parse(query), undefined, variables);

describe('requested query cost', () => {
  it.each([
    ['scalars on the root', '{ __typename }', 0],
    ['one object', '{ product(slug: "tee") { title } }', 1],
    ['a connection with pageInfo only', '{ products(first: 10) { pageInfo { hasNextPage } totalCount } }', 2],
    ['a connection: 2 plus first × node', '{ products(first: 10) { edges { node { title } } } }', 12],
    ['the same page through nodes', '{ products(first: 10) { nodes { title } } }', 12],
    ['last counts like first', '{ products(last: 5) { nodes { title } } }', 7],
    ['the default page size when neither is given', '{ products { nodes { title } } }', 2 + 20],
    ['value objects are free', '{ products(first: 10) { nodes { priceRange { min { amount } } } } }', 12],
    [
      'a list inside each node counts its assumed size',
      '{ products(first: 10) { nodes { variants { sku } } } }',
      2 + 10 * (1 + 5),
    ],
    [
      'a list of objects counts its assumed size',
      '{ categories(first: 10) { nodes { children { name } } } }',
      2 + 10 * (1 + 20),
    ],
    ['nodes(ids:) counts the IDs given', '{ nodes(ids: ["a", "b", "c"]) { id } }', 3],
    ['a mutation', 'mutation { logOut(input: { refreshToken: "x" }) { userErrors { message } } }', MUTATION_COST],
  ])('%s', (_name, query, expected) => {
    expect(cost(query)).toBe(expected);
  });

  it('reads page sizes from variables', () => {
    expect(cost('query ($n: Int) { products(first: $n) { nodes { title } } }', { n: 50 })).toBe(52);
  });

  it('follows fragments, and skips what @skip and @include leave out', () => {
    const query = `query ($full: Boolean!) {
      products(first: 10) { nodes { ...Card variants @include(if: $full) { sku } } }
    }
    fragment Card on Product { categories { name } }`;
    expect(cost(query, { full: false })).toBe(2 + 10 * (1 + 3));
    expect(cost(query, { full: true })).toBe(2 + 10 * (1 + 3 + 5));
  });

  it('refuses a fragment bomb instead of expanding it', () => {
    const fragments = Array.from({ length: 20 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
    const query = `{ ...F0 } ${fragments.join(' ')} fragment F20 on Query { __typename }`;
    expect(() => cost(query)).toThrow(
      expect.objectContaining({ extensions: { code: 'MAX_COST_EXCEEDED', http: { status: 400 } } }),
    );
  });

  it('answers variables that do not fit their types as bad user input', () => {
    expect(() => cost('query ($n: Int) { products(first: $n) { totalCount } }', { n: 'ten' })).toThrow(
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } }),
    );
  });
});

describe('actual query cost', () => {
  const schema = model.schema;
  const query = schema.getQueryType()!;
  const product = schema.getType('Product') as ReturnType<typeof schema.getQueryType> & object;
  const field = (type: typeof query, name: string) => type.getFields()[name]!;

  it('counts each object returned, nothing for null, and the weight of connections', () => {
    expect(model.actualCost(field(query, 'product'), query, { id: 1 })).toBe(1);
    expect(model.actualCost(field(query, 'product'), query, null)).toBe(0);
    expect(model.actualCost(field(product, 'variants'), product, [{}, {}, null])).toBe(2);
    expect(model.actualCost(field(query, 'products'), query, { edges: [] })).toBe(2);
    expect(model.actualCost(field(product, 'title'), product, 'Tee')).toBe(0);
  });
});
