// The compiled executor answers as graphql-js does: errors with their codes, paths and locations; variables that do
// not coerce as graphql-js's own errors; and a list whose items fail on their own, once settled, item by item.
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compiledExecution, settleEach } from './compiledExecution.js';

/** Item `id` after `ms`; IDs starting with x fail with FORBIDDEN. */
const item = (id: string, ms: number) =>
  new Promise<{ id: string }>((resolve, reject) =>
    setTimeout(() => {
      if (id.startsWith('x')) reject(new GraphQLError(`no ${id}`, { extensions: { code: 'FORBIDDEN' } }));
      else resolve({ id });
    }, ms),
  );

const schema = makeExecutableSchema({
  typeDefs: `interface Node { id: ID! }
    type A implements Node { id: ID! }
    type Query { raw(ids: [ID!]!): [Node]! settled(ids: [ID!]!): [Node]! count(first: Int!): Int }`,
  resolvers: {
    Query: {
      raw: (_: unknown, { ids }: { ids: string[] }) => ids.map((id, i) => item(id, [5, 1, 3, 0][i] ?? 0)),
      settled: (_: unknown, { ids }: { ids: string[] }) =>
        settleEach(ids.map((id, i) => item(id, [5, 1, 3, 0][i] ?? 0))),
      count: (_: unknown, { first }: { first: number }) => first,
    },
    Node: { __resolveType: () => 'A' },
  },
});

async function run(query: string, variables: Record<string, unknown>) {
  const { executor } = await compiledExecution(schema).load({ apollo: {} });
  const document = parse(query);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  const requestContext = { document, operation, operationName: null, request: { query, variables }, context: {} };
  return executor!(requestContext as unknown as GatewayGraphQLRequestContext);
}

const IDS = ['a', 'xb', 'xc', 'd'];

describe('the compiled executor', () => {
  it('answers a settled list item by item: the failed ones null with their own error, at their index', async () => {
    const result = await run('query ($ids: [ID!]!) { settled(ids: $ids) { id } }', { ids: IDS });
    expect(result.data).toEqual({ settled: [{ id: 'a' }, null, null, { id: 'd' }] });
    expect(result.errors?.map((error) => [error.path, error.extensions.code, error.locations])).toEqual([
      [['settled', 1], 'FORBIDDEN', [{ line: 1, column: 24 }]],
      [['settled', 2], 'FORBIDDEN', [{ line: 1, column: 24 }]],
    ]);
    expect(result.errors?.every((error) => error instanceof GraphQLError)).toBe(true);
  });

  it('still mis-completes a list of promises some of which reject (why lists are settled first)', async () => {
    // When graphql-jit fixes this, settleEach can go.
    const result = await run('query ($ids: [ID!]!) { raw(ids: $ids) { id } }', { ids: IDS });
    expect((result.data as { raw: unknown[] }).raw).toHaveLength(5);
  });

  it('refuses variables that do not coerce with graphql-js’s own errors', async () => {
    const result = await run('query ($first: Int!) { count(first: $first) }', { first: 'ten' });
    expect(result.data).toBeUndefined();
    expect(result.errors?.map((error) => error.message)).toEqual([
      'Variable "$first" got invalid value "ten"; Int cannot represent non-integer value: "ten"',
    ]);
    expect(result.errors?.[0]?.nodes?.[0]?.kind).toBe(Kind.VARIABLE_DEFINITION);
  });
});
