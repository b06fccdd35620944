import { randomUUID } from 'node:crypto';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { and, chain, deny, not, or, rule } from 'graphql-shield';
import { describe, expect, it, vi } from 'vitest';
import { isAuthenticated, isStaff } from '../auth/rules.js';
import type { Viewer } from '../auth/viewer.js';
import type { Context } from './context.js';
import { badUserInput } from './errors.js';
import { toGlobalId } from './globalId.js';
import { createPermissions } from './permissions.js';
import { createSchema } from './schema.js';

/** What pg reports for a connection PostgreSQL ended (pg_terminate_backend, a restart, a failover). */
const connectionTerminated = () =>
  Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
/** What Prisma reports when statement_timeout cancelled a query. */
const statementCancelled = () =>
  Object.assign(new Error('canceling statement due to statement timeout'), {
    meta: { driverAdapterError: { cause: { code: '57014' } } },
  });

const customer: Viewer = { accountId: randomUUID(), sessionId: randomUUID(), role: 'CUSTOMER' };

function contextFor(viewer: Viewer, extra: Record<string, unknown> = {}) {
  const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
  return { context: { viewer, logger, ...extra } as unknown as Context, logger };
}

const failsToLoad = rule('failsToLoad')(async () => {
  throw connectionTerminated();
});
const failsWithBadInput = rule('failsWithBadInput')(() => {
  throw badUserInput('Not a valid ID.', 'id');
});
const failsWithTimeout = rule('failsWithTimeout')(async () => {
  throw statementCancelled();
});

const fields = {
  guarded: failsToLoad,
  both: and(isAuthenticated, failsToLoad),
  either: or(isStaff, failsToLoad),
  sequence: chain(isAuthenticated, failsToLoad),
  negated: not(failsToLoad),
  badInput: failsWithBadInput,
  slow: failsWithTimeout,
  staffOnly: isStaff,
  denied: deny,
};
const rules = { Query: fields };

function smallSchema(): GraphQLSchema {
  const names = Object.keys(fields);
  const bare = makeExecutableSchema({
    typeDefs: `type Query { ${names.map((name) => `${name}: String`).join(' ')} }`,
    resolvers: { Query: Object.fromEntries(names.map((name) => [name, () => 'secret'])) },
  });
  return applyMiddleware(bare, createPermissions(rules));
}

const codesOf = (result: Awaited<ReturnType<typeof graphql>>): Record<string, unknown> =>
  Object.fromEntries((result.errors ?? []).map((error) => [String(error.path?.join('.')), error.extensions.code]));

describe('an error thrown inside a rule', () => {
  it('answers INTERNAL_SERVER_ERROR, never an authorization answer, however the rule is composed', async () => {
    const { context, logger } = contextFor(customer);
    const result = await graphql({
      schema: smallSchema(),
      source: '{ guarded both either sequence negated }',
      contextValue: context,
    });
    expect(result.data).toEqual({ guarded: null, both: null, either: null, sequence: null, negated: null });
    expect(codesOf(result)).toEqual({
      guarded: 'INTERNAL_SERVER_ERROR',
      both: 'INTERNAL_SERVER_ERROR',
      either: 'INTERNAL_SERVER_ERROR',
      sequence: 'INTERNAL_SERVER_ERROR',
      negated: 'INTERNAL_SERVER_ERROR',
    });
    expect(result.errors!.every((error) => error.message === 'Internal server error')).toBe(true);
    // Logged with the request's logger (which carries its request id), field by field.
    const logged = logger.error.mock.calls.map(([fields]) => fields as { err: Error; field: string });
    expect(logged.map((line) => line.field).sort()).toEqual(
      ['Query.both', 'Query.either', 'Query.guarded', 'Query.negated', 'Query.sequence'].sort(),
    );
    expect(logged.every((line) => line.err.message.startsWith('terminating connection'))).toBe(true);
  });

  it('keeps a public error and a statement timeout as they are, and denials stay denials', async () => {
    const signedIn = contextFor(customer);
    const result = await graphql({
      schema: smallSchema(),
      source: '{ badInput slow staffOnly denied }',
      contextValue: signedIn.context,
    });
    expect(codesOf(result)).toEqual({
      badInput: 'BAD_USER_INPUT',
      slow: 'OPERATION_TIMEOUT',
      staffOnly: 'FORBIDDEN',
      denied: 'FORBIDDEN',
    });
    expect(signedIn.logger.error).not.toHaveBeenCalled();

    const anonymous = contextFor(null);
    const denied = await graphql({
      schema: smallSchema(),
      source: '{ staffOnly denied }',
      contextValue: anonymous.context,
    });
    expect(codesOf(denied)).toEqual({ staffOnly: 'UNAUTHENTICATED', denied: 'UNAUTHENTICATED' });
  });
});

describe('the permissions of the real schema', () => {
  const schema = createSchema();
  const failingLoader = () => ({ load: vi.fn(() => Promise.reject(connectionTerminated())) });

  it('answer INTERNAL_SERVER_ERROR when a rule cannot load what it checks (an address of the viewer)', async () => {
    const { context, logger } = contextFor(customer, { loaders: { addressById: failingLoader() } });
    const result = await graphql({
      schema,
      source: `mutation ($input: CustomerAddressUpdateInput!) { customerAddressUpdate(input: $input) { userErrors { code } } }`,
      variableValues: {
        input: {
          id: toGlobalId('Address', randomUUID()),
          address: {
            firstName: 'Ada',
            lastName: 'L',
            line1: '1 Main St',
            city: 'Berlin',
            postalCode: '10115',
            countryCode: 'DE',
          },
        },
      },
      contextValue: context,
    });
    expect(result.errors?.map((error) => error.extensions.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ field: 'Mutation.customerAddressUpdate' }),
      expect.any(String),
    );
  });

  it('answer INTERNAL_SERVER_ERROR, not UNAUTHENTICATED, when an anonymous rule check fails (a cart)', async () => {
    const { context } = contextFor(null, { loaders: { cartById: failingLoader() } });
    const result = await graphql({
      schema,
      source: `mutation ($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { userErrors { code } } }`,
      variableValues: { input: { cartId: toGlobalId('Cart', randomUUID()), lines: [] } },
      contextValue: context,
    });
    expect(result.errors?.map((error) => error.extensions.code)).toEqual(['INTERNAL_SERVER_ERROR']);
  });
});
