// A time limit per operation: past it, no further field resolves, and the client gets one OPERATION_TIMEOUT error.
// A database statement still running is cancelled by PostgreSQL's statement_timeout (src/db/client.ts).
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
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
        async executionDidStart() {
          // A timer per operation marks it late, so that each field only reads a boolean: no clock, no closure, no
          // allocation per field. Apollo dispatches every field to the plugins anyway (cache control hooks them).
          let late = false;
          const timer = setTimeout(() => {
            late = true;
          }, limitMs);
          timer.unref(); // an operation must not keep the process alive
          return {
            willResolveField() {
              if (late) throw operationTimeout(limitMs);
            },
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
