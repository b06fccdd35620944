import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import type { AccessTokens } from './tokens.js';
import type { Viewer } from './viewer.js';

/** The viewer named by an `Authorization: Bearer` header; anonymous without one. A header with a token that does
 * not verify fails the whole request, so a client learns to refresh instead of silently seeing less. */
export async function viewerFromHeaders(headers: IncomingHttpHeaders, tokens: AccessTokens): Promise<Viewer> {
  const header = headers.authorization;
  if (!header) return null;
  const token = /^Bearer ([\w.~+/-]+=*)$/i.exec(header)?.[1];
  const viewer = token ? await tokens.verify(token) : null;
  if (!viewer) {
    throw new GraphQLError('The access token is invalid or has expired.', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  return viewer;
}
