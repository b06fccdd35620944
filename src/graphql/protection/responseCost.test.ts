// The walk that charges an executed operation (responseCost.ts): it must add up to what counting every field as it
// resolved would, on the same response.
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { typeDefs } from '../schema.js';
import { CostModel } from './cost.js';

describe('actual query cost of a response', () => {
  // The SDL without resolvers: each field reads (or calls) the property of its name on mock data, and Node's type is
  // the data's __typename. One schema serves both the walk and the reference, as mutations are told apart by type.
  const schema = makeExecutableSchema({ typeDefs });
  const mockModel = new CostModel(schema);

  // The reference: the cost plugin as it was, adding up actualCost of every field as it resolved.
  // Apollo runs each operation on a shallow copy of the context, so the count sits in an object of its own.
  interface Tally {
    cost: { actual: number };
  }
  const perFieldCost: ApolloServerPlugin<Tally> = {
    async requestDidStart() {
      return {
        async executionDidStart({ contextValue }) {
          return {
            willResolveField({ info }) {
              return (_error, result) => {
                contextValue.cost.actual += mockModel.actualCost(
                  info.parentType.getFields()[info.fieldName]!,
                  info.parentType,
                  result,
                );
              };
            },
          };
        },
      };
    },
  };
  let root: Record<string, unknown> = {};
  const server = new ApolloServer<Tally>({ schema, rootValue: () => root, plugins: [perFieldCost] });

  /** Runs `query` on `data` through Apollo: the data and errors sent back, the walk's cost and the reference's. */
  async function costs(query: string, data: Record<string, unknown>, variables: Record<string, unknown> = {}) {
    root = data;
    const tally = { cost: { actual: 0 } };
    const response = await server.executeOperation({ query, variables }, { contextValue: tally });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    const result = response.body.singleResult;
    return {
      result,
      walked: mockModel.responseCost(parse(query), undefined, variables, result.data),
      perField: tally.cost.actual,
    };
  }

  const money = (amount: string) => ({ amount, currencyCode: 'USD' });
  const variant = (id: string) => ({
    __typename: 'ProductVariant',
    id,
    sku: `SKU-${id}`,
    title: 'M',
    price: money('10.00'),
    compareAtPrice: null,
    selectedOptions: [{ name: 'Size', value: 'M' }],
    availableForSale: true,
    product: () => product('p9', 0),
  });
  const category = (id: string, children: object[] = []): Record<string, unknown> => ({
    __typename: 'Category',
    id,
    name: `Category ${id}`,
    slug: id,
    description: '',
    parent: null,
    children,
    products: ({ first }: { first?: number }) => connection(products.slice(0, first ?? 20)),
  });
  const product = (id: string, variants: number, categories = 1): Record<string, unknown> => ({
    __typename: 'Product',
    id,
    title: `Product ${id}`,
    slug: id,
    description: '',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    variants: Array.from({ length: variants }, (_, i) => variant(`${id}v${i}`)),
    categories: Array.from({ length: categories }, (_, i) => category(`${id}c${i}`)),
    priceRange: variants ? { minVariantPrice: money('10.00'), maxVariantPrice: money('12.00') } : null,
    availableForSale: variants > 0,
  });
  const connection = (nodes: object[]) => ({
    edges: nodes.map((node, i) => ({ cursor: `cursor${i}`, node })),
    nodes,
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    totalCount: nodes.length,
  });
  const products = [product('p1', 3, 2), product('p2', 0, 0), product('p3', 1, 3)];
  const categories = [category('c1', [category('c1a'), category('c1b')]), category('c2')];
  const byId = new Map<string, object>(
    [...products, ...categories, variant('v1')].map((object) => [object.id as string, object]),
  );
  const catalog = {
    products: ({ first }: { first?: number }) => connection(products.slice(0, first ?? 20)),
    product: ({ slug }: { slug: string }) => products.find((p) => p.slug === slug) ?? null,
    categories: ({ first }: { first?: number }) => connection(categories.slice(0, first ?? 20)),
    node: ({ id }: { id: string }) => byId.get(id) ?? null,
    nodes: ({ ids }: { ids: string[] }) => ids.map((id) => byId.get(id) ?? null),
    logOut: () => ({ endedSessionCount: 1, userErrors: [] }),
  };

  it.each([
    [
      'a listing: lists, null objects, free value objects',
      `{ products(first: 3) { totalCount nodes { id title priceRange { minVariantPrice { amount } }
          variants { id sku price { amount } selectedOptions { name } } categories { id name } } } }`,
      // products 2; 3 products; 4 variants; 5 categories
      2 + 3 + 4 + 5,
    ],
    [
      'aliases of one field with different arguments, edges and pageInfo',
      `{ a: products(first: 2) { edges { cursor node { id variants { id } } } pageInfo { hasNextPage } }
         b: products(first: 1) { nodes { title } totalCount } }`,
      2 + 2 + 3 + (2 + 1),
    ],
    [
      'nested connections',
      `{ categories(first: 2) { nodes { name children { name } products(first: 2) { nodes { id variants { sku } } } } } }`,
      // categories 2; 2 categories; 2 children; per category products 2 + 2 products + 3 variants
      2 + 2 + 2 + 2 * (2 + 2 + 3),
    ],
    [
      'fragments, merged with the fields beside them, on the type and on its interface',
      `{ products(first: 3) { nodes { ...Card ...Identified variants { sku } } } }
       fragment Card on Product { variants { id } categories { name } }
       fragment Identified on Node { id ... on Product { title } ... on Category { name } }`,
      2 + 3 + 4 + 5,
    ],
    [
      'inline fragments on the Node interface, without __typename',
      `{ node(id: "p1") { id ... on Product { title variants { sku } } ... on Category { name children { name } } }
         nodes(ids: ["c1", "missing", "p3", "v1", "p2"]) {
           ... on Product { variants { id } }
           ... on ProductVariant { sku product { title } }
           ... on Category { children { id } products(first: 1) { nodes { id } } } } }`,
      // node 1 + 3 variants; nodes 4 found: c1 (2 children, products 2 + 1), p3 (1 variant), v1 (product 1), p2;
      // the missing one as requested, as the costliest type: a category (1 + 20 children + products 2 + 1)
      1 + 3 + 4 + (2 + 2 + 1) + 1 + 1 + 24,
      24,
    ],
    [
      'an aliased __typename telling the types apart',
      `{ nodes(ids: ["p1", "c1", "v1"]) { kind: __typename ... on Product { id categories { id } }
           ... on Category { id children { id } } ... on ProductVariant { id } } }`,
      3 + 2 + 2,
    ],
    [
      'a null object and a missing one',
      '{ product(slug: "p2") { title priceRange { minVariantPrice { amount } } } none: product(slug: "x") { id } }',
      // the missing product as requested
      2,
      1,
    ],
    ['scalars only', '{ __typename }', 0],
    [
      'a mutation',
      'mutation { logOut(input: { refreshToken: "x" }) { endedSessionCount userErrors { message } } }',
      10,
    ],
  ])(
    '%s: as counted field by field, and what came back null as requested',
    async (_name, query, expected, nulls = 0) => {
      const { result, walked, perField } = await costs(query, catalog);
      expect(result.errors).toBeUndefined();
      expect(walked).toBe(perField + nulls);
      expect(walked).toBe(expected);
    },
  );

  it('leaves out what @skip and @include leave out, with variables and their defaults', async () => {
    const query = `query ($full: Boolean!, $lean: Boolean = true) {
      products(first: 3) { nodes { variants @include(if: $full) { id } categories @skip(if: $lean) { id } } } }`;
    for (const variables of [{ full: false }, { full: true }, { full: true, lean: false }]) {
      const { result, walked, perField } = await costs(query, catalog, variables);
      expect(result.errors).toBeUndefined();
      expect(walked).toBe(perField);
    }
    expect((await costs(query, catalog, { full: true, lean: false })).walked).toBe(2 + 3 + 4 + 5);
  });

  it('counts a field that failed as null, where the error stops at it', async () => {
    const failing = () => {
      throw new Error('no price');
    };
    const data = { ...catalog, products: () => connection(products.map((p) => ({ ...p, priceRange: failing }))) };
    const { result, walked, perField } = await costs(
      '{ products(first: 3) { nodes { id variants { id } priceRange { minVariantPrice { amount } } } } }',
      data,
    );
    expect(result.errors).toHaveLength(3);
    expect(result.data).not.toBeNull();
    expect(walked).toBe(perField);
    expect(walked).toBe(2 + 3 + 4);
  });

  it('charges as requested what an error nulled, though it had resolved', async () => {
    // A non-null title fails: the product resolved (and was counted field by field) but comes back null.
    const broken = { ...products[0], title: () => Promise.reject(new Error('broken')) };
    const { result, walked, perField } = await costs('{ product(slug: "p1") { title variants { id } } }', {
      ...catalog,
      product: () => broken,
    });
    expect(result.data).toEqual({ product: null });
    expect(perField).toBe(1 + 3);
    expect(walked).toBe(1 + 5);
  });

  it('charges the nodes that came back, and the one that failed as requested', async () => {
    // Field by field, a list with one failed promise counted nothing at all.
    const { result, walked, perField } = await costs('{ nodes(ids: ["p1", "p3"]) { id } }', {
      ...catalog,
      nodes: () => [Promise.resolve(products[0]), Promise.reject(new Error('gone'))],
    });
    expect(result.data).toEqual({ nodes: [{ id: 'p1' }, null] });
    expect(result.errors).toHaveLength(1);
    expect(perField).toBe(0);
    expect(walked).toBe(2);
  });

  it('charges the costlier type where the response cannot tell which it is', async () => {
    // The same key, from a free value object on Product and a Category (1) on Category.
    const query = `{ nodes(ids: ["p1", "c1"]) { ... on Product { x: priceRange { __typename } }
        ... on Category { x: parent { __typename } } } }`;
    const { walked, perField } = await costs(query, {
      ...catalog,
      nodes: () => [products[0], { ...categories[0], parent: categories[1] }],
    });
    expect(perField).toBe(2 + 1);
    expect(walked).toBe(2 + 1 + 1);
  });

  it('costs nothing without data', () => {
    expect(mockModel.responseCost(parse('{ products { totalCount } }'), undefined, {}, null)).toBe(0);
  });
});
