// The policy worked out from the document equals the one Apollo's cache control plugin gathers field by field, for
// every rule of @cacheControl: type and field hints, inheritMaxAge, PRIVATE, root and object fields without a hint,
// fragments and abstract types.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CachePolicies } from './cachePolicy.js';

const typeDefs = /* GraphQL */ `
  enum CacheControlScope {
    PUBLIC
    PRIVATE
  }
  directive @cacheControl(
    maxAge: Int
    scope: CacheControlScope
    inheritMaxAge: Boolean
  ) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
  interface Node {
    id: ID!
  }
  type Query {
    product: Product
    products: [Product!]!
    noProducts: [Product!]!
    account: Account
    node: Node
    hinted: Product @cacheControl(maxAge: 30)
    version: String
    pinned: String @cacheControl(maxAge: 90)
  }
  type Product implements Node @cacheControl(maxAge: 60) {
    id: ID!
    title: String
    stock: Int @cacheControl(maxAge: 5)
    price: Money
    related: Product @cacheControl(inheritMaxAge: true)
    owner: Account
    plain: Plain
  }
  type Money @cacheControl(inheritMaxAge: true) {
    amount: String
  }
  type Account implements Node @cacheControl(scope: PRIVATE) {
    id: ID!
    email: String
  }
  type Plain {
    name: String
  }
`;

const product = { id: 'p', title: 't', stock: 1, price: { amount: '1' }, owner: null, plain: { name: 'n' } };
const resolvers = {
  Query: {
    product: () => ({ ...product, related: product }),
    products: () => [product],
    noProducts: () => [],
    account: () => ({ id: 'a', email: 'e' }),
    node: () => ({ __typename: 'Account', id: 'a' }),
    hinted: () => product,
    version: () => '1',
    pinned: () => '1',
  },
  Product: { owner: () => ({ id: 'a', email: 'e' }) },
  Node: { __resolveType: (value: { __typename?: string }) => value.__typename ?? 'Product' },
};
const schema = makeExecutableSchema({ typeDefs, resolvers });

async function apolloPolicy(query: string) {
  let policy: unknown;
  const server = new ApolloServer({
    schema,
    plugins: [
      ApolloServerPluginCacheControl(),
      {
        async requestDidStart() {
          return {
            async willSendResponse({ overallCachePolicy }) {
              policy = { maxAge: overallCachePolicy.maxAge, scope: overallCachePolicy.scope };
            },
          };
        },
      },
    ],
  });
  await server.start();
  try {
    const response = await server.executeOperation({ query });
    expect(response.body.kind === 'single' && response.body.singleResult.errors).toBeFalsy();
    return policy;
  } finally {
    await server.stop();
  }
}

function staticPolicy(query: string) {
  const document = parse(query);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  const fragments = new Map(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((definition) => [definition.name.value, definition]),
  );
  const hint = new CachePolicies(schema).of(operation, fragments);
  return { maxAge: hint.maxAge, scope: hint.scope };
}

const queries: [string, string][] = [
  ['the type hint of an object field', '{ product { id title } }'],
  ['a shorter field hint', '{ product { id stock } }'],
  ['an object type inheriting its parent', '{ product { price { amount } } }'],
  ['a field inheriting its parent', '{ product { related { title } } }'],
  ['an object without a hint', '{ product { plain { name } } }'],
  ['a PRIVATE type below a public one', '{ product { owner { email } } }'],
  ['a PRIVATE root field', '{ account { email } }'],
  ['a root scalar without a hint', '{ version }'],
  ['a root scalar with a hint', '{ pinned }'],
  ['a field hint over the type hint', '{ hinted { title } }'],
  ['a list', '{ products { title price { amount } } }'],
  [
    'fragments',
    'query { ...Root } fragment Root on Query { product { ...Fields } } fragment Fields on Product { stock }',
  ],
  ['an inline fragment on an abstract type', '{ node { id ... on Account { email } } }'],
  ['__typename alone', '{ __typename }'],
];

describe('the cache policy worked out from the document', () => {
  it.each(queries)('equals Apollo’s for %s', async (_, query) => {
    expect(staticPolicy(query)).toEqual(await apolloPolicy(query));
  });

  it('counts fields an empty list leaves unresolved, so it is never looser than Apollo’s', async () => {
    const query = '{ noProducts { owner { email } } }';
    expect(await apolloPolicy(query)).toEqual({ maxAge: 60, scope: undefined });
    expect(staticPolicy(query)).toEqual({ maxAge: 0, scope: 'PRIVATE' });
  });
});
