import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import type { AccessClaims, AccessTokens } from './tokens.js';
import type { Viewer } from './viewer.js';

const invalidToken = () =>
  new GraphQLError('The access token is invalid or has expired.', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });

/** The verified claims of an `Authorization: Bearer` header, or null without one. Checks the signature only, so it
 * needs no database; a token that does not verify fails the whole request with 401 and no detail. */
export async function claimsFromHeaders(
  headers: IncomingHttpHeaders,
  tokens: AccessTokens,
): Promise<AccessClaims | null> {
  const header = headers.authorization;
  if (!header) return null;
  const token = /^Bearer ([\w.~+/-]+=*)$/i.exec(header)?.[1];
  const claims = token ? await tokens.verify(token) : null;
  if (!claims) throw invalidToken();
  return claims;
}

/** The viewer behind verified claims, once their session is found live and the account enabled; a client whose
 * session has ended learns to refresh or sign in again (401) instead of silently seeing less. */
export async function liveViewerOf(
  claims: AccessClaims | null,
  liveViewer: (claims: AccessClaims) => Promise<Viewer>,
): Promise<Viewer> {
  if (!claims) return null;
  const viewer = await liveViewer(claims);
  if (!viewer) throw invalidToken();
  return viewer;
}

export async function viewerFromHeaders(
  headers: IncomingHttpHeaders,
  tokens: AccessTokens,
  liveViewer: (claims: AccessClaims) => Promise<Viewer>,
): Promise<Viewer> {
  return liveViewerOf(await claimsFromHeaders(headers, tokens), liveViewer);
}
