// GraphQL errors a client can act on, each with a stable `extensions.code`. Anything else is an internal error
// whose details stay in the logs.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const PUBLIC_ERROR_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export const badUserInput = (message: string, argument?: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument && { argumentName: argument }) } });

export const unauthenticated = () =>
  new GraphQLError('You must be signed in to do this.', { extensions: { code: 'UNAUTHENTICATED' } });

export const forbidden = () =>
  new GraphQLError('You are not allowed to do this.', { extensions: { code: 'FORBIDDEN' } });

export const isPublicError = (error: unknown): error is GraphQLError =>
  error instanceof GraphQLError && PUBLIC_ERROR_CODES.has(String(error.extensions.code));

/** Apollo's formatError: public errors pass as they are; everything else becomes a bare internal error. */
export function maskError(formatted: GraphQLFormattedError, exposeDetails: boolean): GraphQLFormattedError {
  if (PUBLIC_ERROR_CODES.has(String(formatted.extensions?.code)) || exposeDetails) return formatted;
  return {
    message: 'Internal server error',
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
