// Access tokens: short-lived JWTs signed with HS256 under a key id, so keys can rotate: the current key signs, and
// retired keys still verify until their tokens expire. Verification pins the algorithm, issuer and audience, so
// `alg: none`, other algorithms, and tokens meant for other services are all rejected.
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import type { Config } from '../config.js';
import { ROLES, type Role } from './viewer.js';

const ALGORITHM = 'HS256';

export type TokenConfig = Pick<
  Config,
  'JWT_SECRET' | 'JWT_KEY_ID' | 'JWT_PREVIOUS_KEYS' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'ACCESS_TOKEN_TTL_SECONDS'
>;

/** What a valid access token says. Whether its session still stands is checked against the database. */
export interface AccessClaims {
  accountId: string;
  role: Role;
  sessionId: string;
}

export interface AccessTokens {
  sign(claims: AccessClaims, ttlSeconds?: number): Promise<{ token: string; expiresAt: Date }>;
  /** The claims of a valid, current token of ours, or null. */
  verify(token: string): Promise<AccessClaims | null>;
}

export function accessTokens(config: TokenConfig): AccessTokens {
  const encode = (secret: string) => new TextEncoder().encode(secret);
  const keys = new Map([
    [config.JWT_KEY_ID, encode(config.JWT_SECRET)],
    ...config.JWT_PREVIOUS_KEYS.map(({ kid, secret }) => [kid, encode(secret)] as const),
  ]);
  const keyFor = ({ kid }: JWTHeaderParameters) => {
    const key = kid === undefined ? undefined : keys.get(kid);
    if (!key) throw new Error('unknown key id');
    return key;
  };
  return {
    async sign({ accountId, role, sessionId }, ttlSeconds = config.ACCESS_TOKEN_TTL_SECONDS) {
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + ttlSeconds) * 1000);
      const token = await new SignJWT({ role, sid: sessionId })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: config.JWT_KEY_ID })
        .setSubject(accountId)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .setJti(randomUUID())
        .sign(keys.get(config.JWT_KEY_ID)!);
      return { token, expiresAt };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keyFor, {
          algorithms: [ALGORITHM],
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        });
        const role = ROLES.find((r) => r === payload.role);
        const { sub, sid } = payload;
        return role && sub && typeof sid === 'string' ? { accountId: sub, role, sessionId: sid } : null;
      } catch {
        return null;
      }
    },
  };
}
