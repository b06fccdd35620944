import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectedNodeFields } from './lookahead.js';

const typeDefs = `type Query { items: ItemConnection }
  type ItemConnection { nodes: [Item] edges: [ItemEdge] totalCount: Int }
  type ItemEdge { cursor: String node: Item }
  type Item { name: String price: Int tags: [String] }`;

async function selected(source: string): Promise<string[]> {
  let fields = new Set<string>();
  const schema = makeExecutableSchema({
    typeDefs,
    resolvers: {
      Query: {
        items: (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) => {
          fields = selectedNodeFields(info);
          return { nodes: [], edges: [] };
        },
      },
    },
  });
  const result = await graphql({ schema, source });
  expect(result.errors).toBeUndefined();
  return [...fields].sort();
}

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

  it('is empty when no node is selected', async () => {
    expect(await selected('{ items { totalCount } }')).toEqual([]);
  });
});
