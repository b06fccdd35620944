import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fieldsBelow, nodeSelection, selectedNodeFields, type Selection } from './lookahead.js';

const typeDefs = `type Query { items: ItemConnection }
  type ItemConnection { nodes: [Item] edges: [ItemEdge] totalCount: Int }
  type ItemEdge { cursor: String node: Item }
  type Item { name: String price: Int tags: [String] parts: [Part] }
  type Part { sku: String weight: Int }`;

/** Runs `source` and returns what `inspect` made of the `items` field's info. */
async function lookAhead<T>(
  source: string,
  inspect: (info: GraphQLResolveInfo) => T,
  variableValues?: Record<string, unknown>,
): Promise<T> {
  let seen: T | undefined;
  const schema = makeExecutableSchema({
    typeDefs,
    resolvers: {
      Query: {
        items: (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) => {
          seen = inspect(info);
          return { nodes: [], edges: [] };
        },
      },
    },
  });
  const result = await graphql({ schema, source, variableValues });
  expect(result.errors).toBeUndefined();
  return seen!;
}

const selected = async (source: string, variables?: Record<string, unknown>) =>
  [...(await lookAhead(source, selectedNodeFields, variables))].sort();

/** The fields selected below the nodes' `parts`. */
const partFields = async (source: string, variables?: Record<string, unknown>) =>
  lookAhead(
    source,
    (info) => {
      const nodes: Selection = nodeSelection(info);
      return [...fieldsBelow(nodes.get('parts') ?? [], info).keys()].sort();
    },
    variables,
  );

describe('selectedNodeFields', () => {
  it('reads the fields under nodes and under edges.node', async () => {
    expect(await selected('{ items { nodes { name } edges { cursor node { price } } totalCount } }')).toEqual([
      'name',
      'price',
    ]);
  });

  it('follows named and inline fragments at every level', async () => {
    const source = `{ items { ...page } }
      fragment page on ItemConnection { nodes { ... on Item { tags } } edges { ...edge } }
      fragment edge on ItemEdge { node { ...item } }
      fragment item on Item { name }`;
    expect(await selected(source)).toEqual(['name', 'tags']);
  });

  it('honours @skip and @include, with literals and variables, on fields and fragments', async () => {
    const source = `query ($on: Boolean!, $off: Boolean!) { items { nodes {
        name @include(if: $on) price @skip(if: $on) tags @include(if: $off)
        ... @include(if: false) { parts { sku } }
        ...more @skip(if: $off)
      } } }
      fragment more on Item { parts { weight } }`;
    expect(await selected(source, { on: true, off: false })).toEqual(['name', 'parts']);
    expect(await selected(source, { on: false, off: true })).toEqual(['price', 'tags']);
  });

  it('merges every selection of a field, under aliases and in fragments, to look below it', async () => {
    const source = `{ items {
        nodes { a: parts { sku } b: parts { weight @skip(if: true) } }
        edges { node { ...item } }
      } }
      fragment item on Item { parts { ... on Part { weight } } }`;
    expect(await partFields(source)).toEqual(['sku', 'weight']);
  });

  it('spreads a fragment once however often it is spread', async () => {
    const source = `{ items { nodes { ...item ...item parts { sku } } } }
      fragment item on Item { name }`;
    expect(await selected(source)).toEqual(['name', 'parts']);
  });

  it('is empty when no node is selected', async () => {
    expect(await selected('{ items { totalCount } }')).toEqual([]);
  });
});
