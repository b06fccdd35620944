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
  /** How many errors (all with the code) the refusal lists, when not one: one per unknown name, say. */
  errors?: number;
}

const parentChain = (parents: number) =>
  `{ category(slug: "x") { ${'parent { '.repeat(parents)}id${' }'.repeat(parents)} } }`;

const repeat = (count: number, make: (i: number) => string, separator = ' ') =>
  Array.from({ length: count }, (_, i) => make(i)).join(separator);

/** Fragments F0…F(levels-1), each spreading the next `fan` times: fan^levels selections once expanded. */
const fragmentBomb = (levels: number, fan: number) =>
  `{ ...F0 } ${repeat(levels, (i) => `fragment F${i} on Query { ${`...F${i + 1} `.repeat(fan)}}`)} fragment F${levels} on Query { __typename }`;

const logIn = (i: number) =>
  `m${i}: logIn(input: { email: "victim@example.test", password: "guess${i}" }) { userErrors { code } }`;

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
  {
    name: 'a query of 25,000 characters',
    request: { query: `# ${'x'.repeat(25_000)}\n{ __typename }` },
    code: 'QUERY_TOO_LONG',
    notOverGet: true,
  },
  {
    name: 'too many directives',
    request: { query: `{ ${'__typename @include(if: true) '.repeat(51)}}` },
    code: 'DIRECTIVE_LIMIT_EXCEEDED',
  },
  {
    name: 'aliases hidden in a fragment spread four times',
    request: {
      query: `{ ...Eight ... on Query { ...Eight } ... on Query { ...Eight } ... on Query { ...Eight } }
        fragment Eight on Query { ${repeat(8, (i) => `a${i}: products(first: 1) { totalCount }`)} }`,
    },
    code: 'ALIAS_LIMIT_EXCEEDED',
  },
  {
    name: 'a fragment spreading itself',
    request: { query: '{ ...A } fragment A on Query { __typename ...A }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  { name: 'a fragment bomb 30 levels deep', request: { query: fragmentBomb(30, 2) }, code: 'DEPTH_LIMIT_EXCEEDED' },
  { name: 'a fragment bomb of 10^4 spreads', request: { query: fragmentBomb(4, 10) }, code: 'MAX_COST_EXCEEDED' },
  {
    name: 'a page size of 99999999',
    request: { query: 'query ($n: Int) { products(first: $n) { nodes { id } } }', variables: { n: 99999999 } },
    code: 'MAX_COST_EXCEEDED',
  },
  {
    name: 'six mutations in one operation',
    request: { query: `mutation { ${repeat(6, logIn)} }` },
    code: 'MUTATION_LIMIT_EXCEEDED',
    notOverGet: true,
  },
  // What generic attack tools (graphql-cop, InQL, clairvoyance) send against any GraphQL endpoint.
  {
    name: 'field names probed for suggestions (clairvoyance)',
    request: { query: '{ accont ordr custmer }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
    errors: 3,
  },
  {
    name: 'directive overloading (graphql-cop)',
    request: { query: `{ __typename ${'@a '.repeat(60)}}` },
    code: 'DIRECTIVE_LIMIT_EXCEEDED',
  },
  {
    name: 'circular introspection (graphql-cop)',
    request: { query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
    // introspection is off, and graphql-js's MaxIntrospectionDepthRule refuses the cycle too
    errors: 2,
  },
  {
    // graphql-cop reports an API that answers its ten unknown directives with ten errors.
    name: "graphql-cop's own directive overloading probe, under the directive limit",
    request: { query: `query cop { __typename ${'@aa'.repeat(10)} }` },
    code: 'GRAPHQL_VALIDATION_FAILED',
    errors: 6, // five, then graphql-js's "Validation aborted"
  },
  {
    name: 'an unknown directive probing for unhandled errors (graphql-cop)',
    request: { query: '{ __typename @aa }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: '__type(name:) probing for type names (InQL, clairvoyance)',
    request: { query: '{ __type(name: "Account") { name fields { name } } }' },
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
];

/** Field duplication (graphql-cop): graphql-js merges the copies, so the server answers at once, or refuses. */
export const FIELD_DUPLICATION: GraphQLRequest = { query: `{ ${'__typename '.repeat(500)}}` };
