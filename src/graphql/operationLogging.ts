import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from './context.js';

/** One structured log line per GraphQL operation, tagged with the request's id by pino-http's child logger. */
export const operationLogging: ApolloServerPlugin<Context> = {
  async requestDidStart({ contextValue }) {
    const started = performance.now();
    return {
      async willSendResponse({ operationName, operation, errors }) {
        contextValue.logger.info(
          {
            accountId: contextValue.viewer?.accountId ?? null,
            clientAddress: contextValue.clientAddress,
            operationName: operationName ?? null,
            operationType: operation?.operation ?? null,
            durationMs: Math.round(performance.now() - started),
            errorCodes: errors?.map((error) => error.extensions.code ?? 'INTERNAL_SERVER_ERROR'),
          },
          'graphql operation',
        );
      },
    };
  },
};
