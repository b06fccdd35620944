import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, GraphQLError, type GraphQLObjectType } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, deny, shield } from 'graphql-shield';
import { describe, expect, it, vi } from 'vitest';
import type { Context } from './context.js';
import { publicFieldResolvers, type ResolverErrorHandler } from './publicFields.js';

const typeDefs = `type Query { item: Item }
  type Item { name: String secret: String broken: String rejected: String computed: String }`;
const rules = {
  Query: { item: allow },
  Item: { name: allow, secret: deny, broken: allow, rejected: allow, computed: allow },
};
const resolvers = {
  Query: { item: () => ({ name: 'lamp', secret: 'hidden' }) },
  Item: {
    broken: () => {
      throw new Error('database password is hunter2');
    },
    rejected: () => Promise.reject(new Error('connection reset')),
    computed: (item: { name: string }) => item.name.toUpperCase(),
  },
};

function build() {
  const onError = vi.fn<ResolverErrorHandler>((thrown) =>
    thrown === null ? new GraphQLError('denied') : new GraphQLError('Internal server error'),
  );
  const bare = makeExecutableSchema({ typeDefs, resolvers });
  const permissions = shield(rules, {
    fallbackRule: deny,
    fallbackError: (thrown, _parent, _args, ctx, info) => onError(thrown, ctx as unknown as Context, info),
  });
  const schema = publicFieldResolvers(bare, rules, onError)(applyMiddleware(bare, permissions));
  return { schema, onError };
}

describe('publicFieldResolvers', () => {
  it('gives fields that always allow their plain resolvers back, and leaves the shield on the rest', async () => {
    const { schema } = build();
    const item = schema.getQueryType()!.getFields().item!;
    const fields = (item.type as GraphQLObjectType).getFields();
    expect(fields.name!.resolve).toBeUndefined();
    expect(fields.computed!.resolve!({ name: 'lamp' }, {}, {}, {} as never)).toBe('LAMP');
    expect(fields.secret!.resolve).toBeDefined();

    const result = await graphql({ schema, source: '{ item { name computed secret } }', contextValue: {} });
    expect(result.data).toEqual({ item: { name: 'lamp', computed: 'LAMP', secret: null } });
    expect(result.errors?.map((error) => error.message)).toEqual(['denied']);
  });

  it("routes a public field's thrown and rejected errors through the shield's error handling", async () => {
    const { schema, onError } = build();
    const result = await graphql({ schema, source: '{ item { broken rejected } }', contextValue: {} });
    expect(result.data).toEqual({ item: { broken: null, rejected: null } });
    expect(result.errors?.map((error) => error.message)).toEqual(['Internal server error', 'Internal server error']);
    expect(onError.mock.calls.map(([thrown]) => (thrown as Error).message)).toEqual([
      'database password is hunter2',
      'connection reset',
    ]);
  });
});
