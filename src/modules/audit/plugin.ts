// Records every root Mutation field a STAFF or ADMIN viewer runs, from the executed operation and its result, so
// that no resolver has to remember to. Customers' and guests' requests pass through untouched.
//
// Per field: who (the viewer's account and role when the request arrived), the operation's name, the field's name,
// the global IDs it was about (see targets.ts), and the outcome:
//   FAILED     the response has an error at the field itself (path = [the field's response key]): its resolver threw
//              or was denied, such as FORBIDDEN from a rule; `errorCodes` are those errors' codes as the client got
//              them. Errors deeper in the payload (a nested field the viewer may not read) do not count: the
//              mutation itself ran.
//   REJECTED   otherwise, when the payload the resolver returned has a non-empty `userErrors`.
//   SUCCEEDED  otherwise.
// Fields that never ran (the request failed validation, or an earlier field's error stopped the operation) are not
// recorded. The entries of a request are written in one INSERT before the response is sent; a failed write is
// logged and the response goes out unchanged.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  defaultFieldResolver,
  OperationTypeNode,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { isStaffRole, type Viewer } from '../../auth/viewer.js';
import type { Context } from '../../graphql/context.js';
import { PUBLIC_ERROR_CODES } from '../../graphql/errors.js';
import type { Logger } from '../../logger.js';
import type { AuditRecord } from './service.js';
import { argumentIds, distinct, payloadIds } from './targets.js';

interface ExecutedField {
  responseKey: string;
  fieldName: string;
  returnType: GraphQLOutputType;
  argumentIds: string[];
  /** What the resolver returned, once it has; an Error when it returned one (as graphql-shield does on denial). */
  result?: unknown;
}

/** An error's code as the client sees it (see maskError): anything that is not a public code is internal. */
const clientCode = (error: GraphQLError): string => {
  const code = error.extensions?.code;
  return typeof code === 'string' && PUBLIC_ERROR_CODES.has(code) ? code : 'INTERNAL_SERVER_ERROR';
};

/** The request's ID, as pino-http bound it to the request's logger (and sent it in `x-request-id`); null where no
 * HTTP request is behind the operation (a WebSocket message, a logger without bindings). */
function requestIdOf(logger: Logger): string | null {
  const bindings = typeof logger.bindings === 'function' ? logger.bindings() : undefined;
  const req: unknown = bindings?.req;
  const id = req && typeof req === 'object' ? (req as { id?: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

function hasUserErrors(result: unknown): boolean {
  if (!result || typeof result !== 'object') return false;
  const { userErrors } = result as { userErrors?: unknown };
  return Array.isArray(userErrors) && userErrors.length > 0;
}

function outcomeOf(field: ExecutedField, errors: readonly GraphQLError[]): Pick<AuditRecord, 'outcome' | 'errorCodes'> {
  const raised = errors.filter((error) => error.path?.length === 1 && error.path[0] === field.responseKey);
  if (raised.length > 0 || field.result instanceof Error) {
    const codes = raised.map(clientCode);
    return { outcome: 'FAILED', errorCodes: distinct(codes.length ? codes : ['INTERNAL_SERVER_ERROR']) };
  }
  return { outcome: hasUserErrors(field.result) ? 'REJECTED' : 'SUCCEEDED', errorCodes: [] };
}

/** The root Mutation fields run so far by each operation being recorded. */
const recorded = new WeakMap<Context, ExecutedField[]>();

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/** `schema` with each root Mutation field (outside its rule, so that denials count) noting its arguments and result
 * when its operation is recorded; no other field is touched. */
export function recordMutationFields(schema: GraphQLSchema): GraphQLSchema {
  for (const definition of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = (definition.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, Context>;
    definition.resolve = (parent, args: Record<string, unknown>, context: Context, info) => {
      const fields = recorded.get(context);
      if (!fields) return resolve(parent, args, context, info);
      const field: ExecutedField = {
        responseKey: String(info.path.key),
        fieldName: info.fieldName,
        returnType: info.returnType,
        argumentIds: argumentIds(definition, args),
      };
      fields.push(field);
      try {
        const result = resolve(parent, args, context, info);
        if (!isPromiseLike(result)) return (field.result = result);
        return Promise.resolve(result).then(
          (value) => (field.result = value),
          (error: unknown) => {
            field.result = error;
            throw error;
          },
        );
      } catch (error) {
        field.result = error;
        throw error;
      }
    };
  }
  return schema;
}

export const auditStaffMutations: ApolloServerPlugin<Context> = {
  async requestDidStart({ contextValue }) {
    const fields: ExecutedField[] = [];
    // The viewer as execution starts, the one every field of the operation is authorized for (the context fixes it
    // once authenticated): a mutation that changes the actor's own role, or signs in, does not rewrite who acted.
    // Authenticating here is free when the session check has run, and makes the log independent of it.
    let viewer: Viewer = null;
    return {
      async executionDidStart({ operation }) {
        viewer = await contextValue.authenticate();
        if (!viewer || !isStaffRole(viewer.role) || operation.operation !== OperationTypeNode.MUTATION) return;
        recorded.set(contextValue, fields);
      },

      async willSendResponse({ operation, errors = [] }) {
        if (!viewer || fields.length === 0) return;
        const actor = viewer;
        // Nothing here may fail the response: whatever goes wrong is logged instead.
        try {
          const requestId = requestIdOf(contextValue.logger);
          const entries = fields.map((field): AuditRecord => ({
            actorId: actor.accountId,
            actorRole: actor.role,
            operationName: operation?.name?.value ?? null,
            mutation: field.fieldName,
            targetIds: distinct([
              ...field.argumentIds,
              ...(field.result instanceof Error ? [] : payloadIds(field.returnType, field.result)),
            ]),
            ...outcomeOf(field, errors),
            clientAddress:
              !contextValue.clientAddress || contextValue.clientAddress === 'unknown'
                ? null
                : contextValue.clientAddress,
            requestId,
          }));
          await contextValue.auditLog.record(entries);
        } catch (error) {
          contextValue.logger.error(
            { err: error, mutations: fields.map((field) => field.fieldName) },
            'could not write the audit log; the response is sent regardless',
          );
        }
      },
    };
  },
};
