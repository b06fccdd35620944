// Hostile requests an anonymous client can send over any transport, each with the one refusal it must get from a
// production server (whatever the transport) before any SQL is sent.
import type { GraphQLRequest } from './transports.js';

export interface Hostile {
  name: string;
  request: GraphQLRequest;
  code: string;
  /** Not sent over GET, which refuses it for a reason of its own: a mutation (405), a URL too long for Node (431). */
  notOverGet?: boolean;
  /** Client input the refusal may quote back. */
  echoes?: string[];
}

const parentChain = (parents: number) =>
  `{ category(slug: "x") { ${'parent { '.repeat(parents)}id${' }'.repeat(parents)} } }`;

export const HOSTILE: Hostile[] = [
  {
    name: 'introspection in production',
    request: { query: '{ __schema { types { name fields { name } } } }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'a misspelt field fishing for suggestions',
    request: { query: '{ prodcts { id } }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'a query above the maximum cost',
    request: {
      query: `{ ${Array.from({ length: 10 }, (_, i) => `p${i}: products(first: 100) { nodes { id } }`).join(' ')} }`,
    },
    code: 'MAX_COST_EXCEEDED',
  },
  { name: 'a query 17 levels deep', request: { query: parentChain(15) }, code: 'DEPTH_LIMIT_EXCEEDED' },
  {
    name: 'too many aliases',
    request: { query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: product(slug: "x") { id }`).join(' ')} }` },
    code: 'ALIAS_LIMIT_EXCEEDED',
  },
  {
    name: 'too many tokens',
    request: { query: `{ ${Array.from({ length: 2100 }, () => '__typename').join(' ')} }` },
    code: 'TOKEN_LIMIT_EXCEEDED',
    notOverGet: true,
  },
  {
    name: 'a NUL character in a variable',
    request: {
      query: 'query ($slug: String!) { product(slug: $slug) { id } }',
      variables: { slug: 'aurora\u0000hoodie' },
    },
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a NUL character in an inline string',
    request: { query: '{ product(slug: "aurora\\u0000hoodie") { id } }' },
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'an anonymous staff mutation',
    request: {
      query: 'mutation { productDelete(input: { id: "UHJvZHVjdDox" }) { userErrors { code } } }',
    },
    code: 'UNAUTHENTICATED',
    notOverGet: true,
  },
];
