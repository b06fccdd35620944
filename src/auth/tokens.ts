// Access tokens: short-lived JWTs signed with HS256. Verification pins the algorithm, issuer and audience, so
// `alg: none`, other algorithms, and tokens meant for other services are all rejected.
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config.js';
import { ROLES, type Role, type Viewer } from './viewer.js';

const ALGORITHM = 'HS256';
const ACCESS_TOKEN_TTL = '15m';

export type TokenConfig = Pick<Config, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>;

export interface AccessTokens {
  sign(accountId: string, role: Role, expiresIn?: string | number): Promise<string>;
  /** The viewer a token stands for, or null when it is not a valid, current token of ours. */
  verify(token: string): Promise<Viewer>;
}

export function accessTokens(config: TokenConfig): AccessTokens {
  const key = new TextEncoder().encode(config.JWT_SECRET);
  return {
    sign: (accountId, role, expiresIn = ACCESS_TOKEN_TTL) =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(accountId)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .setJti(randomUUID())
        .sign(key),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
          requiredClaims: ['sub', 'exp', 'jti'],
        });
        const role = ROLES.find((r) => r === payload.role);
        return role && payload.sub ? { accountId: payload.sub, role } : null;
      } catch {
        return null;
      }
    },
  };
}
