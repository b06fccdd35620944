import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config.js';
import { accessTokens, type AccessClaims } from './tokens.js';

const secret = 'test-secret-that-is-at-least-32-characters-long';
const otherSecret = 'another-secret-also-at-least-32-characters-long';

const tokensFor = (env: NodeJS.ProcessEnv = {}) => accessTokens(loadConfig({ JWT_SECRET: secret, ...env }));

const claims: AccessClaims = { accountId: randomUUID(), role: 'STAFF', sessionId: randomUUID() };

/** A token made by hand, signed with `key`, with the claims a real one has unless overridden. */
async function forge(
  payload: Record<string, unknown>,
  { key = secret, kid = 'k1', issuer = 'agora', audience = 'agora-api', ttl = 60 } = {},
) {
  return new SignJWT({ role: claims.role, sid: claims.sessionId, ...payload })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
    .setSubject(claims.accountId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(key));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('access tokens', () => {
  it('round-trip the claims', async () => {
    const tokens = tokensFor();
    const { token } = await tokens.sign(claims);
    expect(await tokens.verify(token)).toEqual(claims);
  });

  it('carry the key id, issuer, audience, expiry and a unique id', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { token, expiresAt } = await tokensFor({ JWT_KEY_ID: 'key-7' }).sign(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'key-7' });
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({
      sub: claims.accountId,
      role: claims.role,
      sid: claims.sessionId,
      iss: 'agora',
      aud: 'agora-api',
      jti: expect.any(String) as string,
    });
    expect(payload.exp).toBe(expiresAt.getTime() / 1000);
    expect(payload.exp! - before).toBeGreaterThanOrEqual(900); // ACCESS_TOKEN_TTL_SECONDS' default
    expect(payload.exp! - before).toBeLessThanOrEqual(901);
    expect(decodeJwt((await tokensFor().sign(claims)).token).jti).not.toBe(payload.jti);
  });

  it('expire', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokens = tokensFor();
    const { token, expiresAt } = await tokens.sign(claims, 60);
    vi.setSystemTime(expiresAt.getTime() - 1000);
    expect(await tokens.verify(token)).toEqual(claims);
    vi.setSystemTime(expiresAt.getTime());
    expect(await tokens.verify(token)).toBeNull();
    vi.setSystemTime(expiresAt.getTime() + 3_600_000);
    expect(await tokens.verify(token)).toBeNull();
  });

  it('honour ACCESS_TOKEN_TTL_SECONDS', async () => {
    const { expiresAt } = await tokensFor({ ACCESS_TOKEN_TTL_SECONDS: '120' }).sign(claims);
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(118_000);
    expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('from a retired key verify while that key is listed in JWT_PREVIOUS_KEYS', async () => {
    const { token } = await tokensFor({ JWT_KEY_ID: 'k1' }).sign(claims);
    const rotated = accessTokens(
      loadConfig({ JWT_SECRET: otherSecret, JWT_KEY_ID: 'k2', JWT_PREVIOUS_KEYS: `k1:${secret}` }),
    );
    expect(await rotated.verify(token)).toEqual(claims);
    // the new key signs
    const fresh = (await rotated.sign(claims)).token;
    expect(decodeProtectedHeader(fresh).kid).toBe('k2');
    expect(await rotated.verify(fresh)).toEqual(claims);
    // and the old server, which does not know k2, rejects it
    expect(await tokensFor({ JWT_KEY_ID: 'k1' }).verify(fresh)).toBeNull();
  });

  it('from a retired key are rejected once it is no longer listed', async () => {
    const { token } = await tokensFor({ JWT_KEY_ID: 'k1' }).sign(claims);
    const rotated = accessTokens(loadConfig({ JWT_SECRET: otherSecret, JWT_KEY_ID: 'k2' }));
    expect(await rotated.verify(token)).toBeNull();
  });

  it('are checked against the key their kid names, not any key', async () => {
    // signed with the previous key's secret, but claiming to be the current key
    const token = await forge({}, { key: secret, kid: 'k2' });
    const rotated = accessTokens(
      loadConfig({ JWT_SECRET: otherSecret, JWT_KEY_ID: 'k2', JWT_PREVIOUS_KEYS: `k1:${secret}` }),
    );
    expect(await rotated.verify(token)).toBeNull();
  });

  it('for another issuer or audience are rejected', async () => {
    const { token: otherIssuer } = await tokensFor({ JWT_ISSUER: 'someone-else' }).sign(claims);
    const { token: otherAudience } = await tokensFor({ JWT_AUDIENCE: 'another-api' }).sign(claims);
    expect(await tokensFor().verify(otherIssuer)).toBeNull();
    expect(await tokensFor().verify(otherAudience)).toBeNull();
    expect(await tokensFor({ JWT_ISSUER: 'someone-else' }).verify(otherIssuer)).toEqual(claims);
  });

  it('signed with another secret, altered, unsigned or without a kid are rejected', async () => {
    const tokens = tokensFor();
    const { token } = await tokens.sign(claims);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const admin = Buffer.from(JSON.stringify({ ...decodeJwt(token), role: 'ADMIN' })).toString('base64url');
    const unsigned = new UnsecuredJWT({ role: 'ADMIN', sid: claims.sessionId })
      .setSubject(claims.accountId)
      .setIssuer('agora')
      .setAudience('agora-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(randomUUID())
      .encode();
    const noKid = await new SignJWT({ role: 'ADMIN', sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.accountId)
      .setIssuer('agora')
      .setAudience('agora-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(randomUUID())
      .sign(new TextEncoder().encode(secret));
    expect(await tokens.verify(await forge({}, { key: otherSecret }))).toBeNull();
    expect(await tokens.verify(`${header}.${admin}.${signature}`)).toBeNull();
    expect(await tokens.verify(`${header}.${payload}.`)).toBeNull();
    expect(await tokens.verify(unsigned)).toBeNull();
    expect(await tokens.verify(noKid)).toBeNull();
    expect(await tokens.verify('')).toBeNull();
    expect(await tokens.verify('not.a.jwt')).toBeNull();
  });

  it('need a known role, a session id and a unique id', async () => {
    const tokens = tokensFor();
    expect(await tokens.verify(await forge({}))).toEqual(claims);
    expect(await tokens.verify(await forge({ role: 'SUPERUSER' }))).toBeNull();
    expect(await tokens.verify(await forge({ sid: undefined }))).toBeNull();
    expect(await tokens.verify(await forge({ sid: 42 }))).toBeNull();
    const withoutJti = await new SignJWT({ role: claims.role, sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject(claims.accountId)
      .setIssuer('agora')
      .setAudience('agora-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect(await tokens.verify(withoutJti)).toBeNull();
  });
});
