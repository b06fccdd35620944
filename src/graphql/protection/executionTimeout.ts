// A time limit per operation: past it, no further field resolves, and the client gets one OPERATION_TIMEOUT error.
// A database statement still running is cancelled by PostgreSQL's statement_timeout (src/db/client.ts).
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Context } from '../context.js';

export const operationTimeout = (limitMs?: number) =>
  new GraphQLError(
    limitMs
      ? `The operation took longer than the limit of ${limitMs} ms and was stopped.`
      : 'A database query of this operation took too long and was cancelled.',
    { extensions: { code: 'OPERATION_TIMEOUT', ...(limitMs && { maximum: limitMs }) } },
  );

export function executionTimeLimit(limitMs: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async executionDidStart({ contextValue }) {
          // A timer per operation stops it, so that each resolver only reads a field (stopWhenLate): no clock,
          // no closure, no plugin hook per field.
          const timer = setTimeout(() => {
            contextValue.stopped = operationTimeout(limitMs);
          }, limitMs);
          timer.unref(); // an operation must not keep the process alive
          return {
            async executionDidEnd() {
              clearTimeout(timer);
            },
          };
        },
        // Every field stopped reports the timeout; the client needs to hear it once.
        async willSendResponse({ response }) {
          if (response.body?.kind !== 'single' || !response.body.singleResult.errors) return;
          let reported = false;
          response.body.singleResult.errors = response.body.singleResult.errors.filter((error) => {
            if (error.extensions?.code !== 'OPERATION_TIMEOUT') return true;
            const first = !reported;
            reported = true;
            return first;
          });
        },
      };
    },
  };
}

/** `schema` with every field that has a resolver refusing to run once its operation is stopped (fields read from
 * their parent's value do no work worth stopping). Applied last, over the shield. */
export function stopWhenLate(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve as GraphQLFieldResolver<unknown, Context> | undefined;
      if (!resolve) continue;
      field.resolve = (parent, args, context: Context, info) => {
        if (context.stopped) throw context.stopped;
        return resolve(parent, args, context, info);
      };
    }
  }
  return schema;
}
