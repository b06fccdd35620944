// GraphQL errors a client can act on, each with a stable `extensions.code`. Anything else is an internal error
// whose details stay in the logs.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { LIMIT_CODES, tokenLimitError } from './protection/limits.js';

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
  ...LIMIT_CODES,
  'MAX_COST_EXCEEDED',
  'THROTTLED',
  'SUBSCRIPTION_LIMIT_EXCEEDED',
  'OPERATION_NOT_TRUSTED',
  'OPERATION_TIMEOUT',
]);

export const badUserInput = (message: string, argument?: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument && { argumentName: argument }) } });

export const unauthenticated = () =>
  new GraphQLError('You must be signed in to do this.', { extensions: { code: 'UNAUTHENTICATED' } });

export const forbidden = () =>
  new GraphQLError('You are not allowed to do this.', { extensions: { code: 'FORBIDDEN' } });

export const isPublicError = (error: unknown): error is GraphQLError =>
  error instanceof GraphQLError && PUBLIC_ERROR_CODES.has(String(error.extensions.code));

/**
 * Apollo's formatError: public errors pass as they are; everything else becomes a bare internal error. Apollo files
 * every validation error under GRAPHQL_VALIDATION_FAILED and every parse error under GRAPHQL_PARSE_FAILED; the
 * protection limits among them get their own codes back here.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { maxTokens: number; hideSuggestions: boolean },
): GraphQLFormattedError {
  const formattedError = options.hideSuggestions ? withoutSuggestions(formatted) : formatted;
  return restoreCode(formattedError, error, options.maxTokens);
}

// graphql-js suggests names in variable errors too ("Did you mean the enum value …?"), which Apollo's own switch
// leaves in.
const SUGGESTION = / ?Did you mean [^?]*\?/g;
const withoutSuggestions = (formatted: GraphQLFormattedError): GraphQLFormattedError =>
  SUGGESTION.test(formatted.message) ? { ...formatted, message: formatted.message.replace(SUGGESTION, '') } : formatted;

/** Apollo's own request errors that come without a code. */
const APOLLO_BAD_REQUESTS = new Set(['provided sha does not match query', 'Unsupported persisted query version']);

function restoreCode(formatted: GraphQLFormattedError, error: unknown, maxTokens: number): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && isPublicError(original)) {
    return { ...formatted, extensions: { ...formatted.extensions, code: original.extensions.code } };
  }
  if (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && original instanceof GraphQLError) {
    const tokenLimit = tokenLimitError(original, maxTokens);
    if (tokenLimit) return { message: tokenLimit.message, extensions: tokenLimit.extensions };
  }
  if (error instanceof GraphQLError && !error.extensions.code && APOLLO_BAD_REQUESTS.has(error.message)) {
    return { message: error.message, extensions: { code: 'BAD_REQUEST' } };
  }
  return maskError(formatted);
}

function maskError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (PUBLIC_ERROR_CODES.has(String(formatted.extensions?.code))) return formatted;
  return {
    message: 'Internal server error',
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
