// The audit log and who acts: a mutation is authorized and recorded for the viewer its operation started with, so
// signing in mid-operation neither unlocks staff mutations nor hides them; and the plugin records wherever Apollo
// executes an operation, with or without an HTTP request behind it.
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedBy } from './support/auditTrail.js';
import { hashPassword } from '../src/auth/passwords.js';
import type { Context } from '../src/graphql/context.js';
import { parseGlobalId, toGlobalId } from '../src/graphql/globalId.js';
import { auditStaffMutations, recordMutationFields } from '../src/modules/audit/plugin.js';
import type { AuditRecord } from '../src/modules/audit/service.js';
import { commerce } from './support/commerce.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: { id: string; token: string };
let shop: ReturnType<typeof commerce>;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  const { accountId } = await server.sessionFor('STAFF');
  staff = { id: accountId, token: await server.tokenFor('STAFF', { accountId }) };
});
afterAll(() => server?.close());

let serial = 0;
const unique = (prefix: string) => `${prefix}-${++serial}-${randomUUID().slice(0, 8)}`;

const post = (query: string, variables: Record<string, unknown>, token?: string) => server.gql(query, variables, token);

const recorded = <T>(action: () => Promise<T>) => recordedBy(server, action);

const denial = (code: 'FORBIDDEN' | 'UNAUTHENTICATED', path: string[]) => ({
  message: code === 'FORBIDDEN' ? 'You are not allowed to do this.' : 'You must be signed in to do this.',
  locations: [{ line: expect.any(Number), column: expect.any(Number) }],
  path,
  extensions: { code },
});

describe('an operation that signs in', () => {
  const password = 'Signal-Harbor-Copper-5172';
  /** An account with a known password, to sign in as inside the operation under test. */
  async function accountWith(role: 'CUSTOMER' | 'STAFF') {
    const email = `${unique(role.toLowerCase())}@example.test`;
    await server.prisma.account.create({
      data: { email, firstName: 'In', lastName: 'Between', role, passwordHash: await hashPassword(password) },
    });
    return email;
  }
  const SIGN_IN_THEN_UPDATE = `mutation SignInThenEdit($login: LogInInput!, $product: ProductUpdateInput!) {
    logIn(input: $login) { account { email } userErrors { code } }
    productUpdate(input: $product) { product { id title } userErrors { code } } }`;

  // Regression: logIn once replaced the request's viewer, so the staff mutation after it ran as the new session
  // while the audit log still saw the anonymous caller it started with, and wrote nothing.
  it('cannot run a staff mutation as the account it signed in to: refused as for the caller, nothing changed', async () => {
    const email = await accountWith('STAFF');
    const productId = (await shop.variant({ stock: 1 })).productGid;
    const { result: res, rows } = await recorded(() =>
      post(SIGN_IN_THEN_UPDATE, { login: { email, password }, product: { id: productId, title: 'Defaced' } }),
    );
    // productUpdate's payload is non-null, so its refusal takes the whole `data` with it
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([denial('UNAUTHENTICATED', ['productUpdate'])]);
    const stored = await server.prisma.product.findUniqueOrThrow({ where: { id: parseGlobalId(productId)!.id } });
    expect(stored.title).not.toBe('Defaced');
    expect(rows).toEqual([]);
  });

  it('a staff caller who signs in to another account still acts, and is recorded, as themselves', async () => {
    const email = await accountWith('CUSTOMER');
    const productId = (await shop.variant({ stock: 1 })).productGid;
    const { result: res, rows } = await recorded(() =>
      post(
        SIGN_IN_THEN_UPDATE,
        { login: { email, password }, product: { id: productId, title: 'Renamed by staff' } },
        staff.token,
      ),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.productUpdate).toEqual({ product: { id: productId, title: 'Renamed by staff' }, userErrors: [] });
    expect(rows.map(({ actorId, mutation, outcome }) => ({ actorId, mutation, outcome }))).toEqual([
      { actorId: staff.id, mutation: 'logIn', outcome: 'SUCCEEDED' },
      { actorId: staff.id, mutation: 'productUpdate', outcome: 'SUCCEEDED' },
    ]);
  });
});

describe('off the HTTP path', () => {
  // The plugin runs wherever Apollo executes an operation (HTTP, WebSocket messages routed through the pipeline,
  // Lambda). Without pino-http's request bindings, or any bindings, it still records, with no request ID.
  const TINY = `type Query { ok: Boolean }
    type Mutation { touch(id: ID!): TouchPayload! }
    type TouchPayload { userErrors: [String!]! }`;

  it.each([
    ['a logger with no request bound to it', { bindings: () => ({}), error: () => {} }],
    ['a logger without bindings at all', { error: () => {} }],
  ])('records a staff mutation run with %s: no request ID, no client address', async (_, logger) => {
    const schema = recordMutationFields(
      makeExecutableSchema({ typeDefs: TINY, resolvers: { Mutation: { touch: () => ({ userErrors: [] }) } } }),
    );
    const apollo = new ApolloServer<Context>({ schema, plugins: [auditStaffMutations] });
    await apollo.start();
    const written: AuditRecord[][] = [];
    const viewer = { accountId: staff.id, role: 'STAFF' as const, sessionId: randomUUID() };
    const contextValue = {
      viewer,
      authenticate: async () => viewer,
      clientAddress: 'unknown',
      logger,
      auditLog: { record: async (entries: AuditRecord[]) => void written.push(entries) },
    } as unknown as Context;
    const target = toGlobalId('Product', randomUUID());
    try {
      const response = await apollo.executeOperation(
        { query: 'mutation Touch($id: ID!) { touch(id: $id) { userErrors } }', variables: { id: target } },
        { contextValue },
      );
      expect(response.body.kind === 'single' && response.body.singleResult.errors).toBeUndefined();
    } finally {
      await apollo.stop();
    }
    expect(written).toEqual([
      [
        {
          actorId: staff.id,
          actorRole: 'STAFF',
          operationName: 'Touch',
          mutation: 'touch',
          targetIds: [target],
          outcome: 'SUCCEEDED',
          errorCodes: [],
          clientAddress: null,
          requestId: null,
        },
      ],
    ]);
  });
});
