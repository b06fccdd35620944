import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import type { AccessClaims, AccessTokens } from './tokens.js';
import type { Viewer } from './viewer.js';

/** The viewer named by an `Authorization: Bearer` header; anonymous without one. A token that does not verify, or
 * whose session has ended or account was disabled, fails the whole request with 401 and no detail, so a client
 * learns to refresh or sign in again instead of silently seeing less. */
export async function viewerFromHeaders(
  headers: IncomingHttpHeaders,
  tokens: AccessTokens,
  liveViewer: (claims: AccessClaims) => Promise<Viewer>,
): Promise<Viewer> {
  const header = headers.authorization;
  if (!header) return null;
  const token = /^Bearer ([\w.~+/-]+=*)$/i.exec(header)?.[1];
  const claims = token ? await tokens.verify(token) : null;
  const viewer = claims && (await liveViewer(claims));
  if (!viewer) {
    throw new GraphQLError('The access token is invalid or has expired.', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  return viewer;
}
