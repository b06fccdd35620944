// Forged access tokens, a representative few (tests/accountSecurity.test.ts covers sessions and rotation at
// length): each is refused with the same bare 401 before any session is looked up, so forging costs the database
// nothing and teaches the forger nothing. Over WebSocket a token is the `authorization` connection parameter, and a
// refused one closes the socket with 4403 before it runs anything.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokens } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { TEST_SECRET, TEST_WEBHOOK_SECRET, type TestServer } from '../support/testServer.js';
import { bearer, expectNoLeak, gql, startProductionServer, withoutQueries } from './support.js';
import { overWebSocket, overWebSocketWith } from './transports.js';

let server: TestServer;
/** A live admin session: forgeries below claim it, so only the forgery itself can be why they fail. */
let admin: { accountId: string; sessionId: string };
let genuine: string;

const claims = () => ({ role: 'ADMIN', sid: admin.sessionId });
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const key = (secret: string) => new TextEncoder().encode(secret);

/** A token as the server signs them, with `change` applied to its header, claims or key. */
function forge({
  alg = 'HS256',
  kid = 'k1',
  secret = TEST_SECRET,
  issuer = 'agora',
  audience = 'agora-api',
  expiresAt = Math.floor(Date.now() / 1000) + 600,
}: { alg?: string; kid?: string; secret?: string; issuer?: string; audience?: string; expiresAt?: number } = {}) {
  return new SignJWT(claims())
    .setProtectedHeader({ alg, typ: 'JWT', kid })
    .setSubject(admin.accountId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .setJti(crypto.randomUUID())
    .sign(key(secret));
}

const productionConfig = () =>
  loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_SECRET, PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET });

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all' });
  admin = await server.sessionFor('ADMIN');
  genuine = (await accessTokens(productionConfig()).sign({ ...admin, role: 'ADMIN' })).token;
});
afterAll(() => server?.close());

const VIEWER = '{ viewer { id role } }';

describe('forged tokens', () => {
  const forgeries: [string, () => Promise<string> | string][] = [
    [
      'alg "none" without a signature',
      () => {
        const now = Math.floor(Date.now() / 1000);
        const payload = {
          ...claims(),
          sub: admin.accountId,
          iss: 'agora',
          aud: 'agora-api',
          iat: now,
          exp: now + 600,
          jti: crypto.randomUUID(),
        };
        return `${base64url({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${base64url(payload)}.`;
      },
    ],
    ['signed with another key', () => forge({ secret: 'Kx8vN2qLm5Rt9wPz3YbHc7Jf1GdS6aUeQo4Vi0Tn' })],
    ['signed with the right key but HS512', () => forge({ alg: 'HS512' })],
    ['expired a minute ago', () => forge({ expiresAt: Math.floor(Date.now() / 1000) - 60 })],
    ['for another audience', () => forge({ audience: 'another-api' })],
    ['from another issuer', () => forge({ issuer: 'someone-else' })],
    ['under an unknown key id', () => forge({ kid: 'k9' })],
    [
      'a customer token whose role was edited to ADMIN',
      async () => {
        const { token } = await accessTokens(productionConfig()).sign({ ...admin, role: 'CUSTOMER' });
        const [header, payload, signature] = token.split('.');
        const edited = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'ADMIN' };
        return `${header}.${base64url(edited)}.${signature}`;
      },
    ],
    ['not a JWT at all', () => 'not.a.jwt'],
    ['SQL instead of a token', () => "' OR '1'='1"],
  ];

  it.each(forgeries)('refuses one %s with 401, before looking up any session', async (_, make) => {
    const token = await make();
    const res = await withoutQueries(server, () =>
      gql(server, VIEWER, undefined, { authorization: `Bearer ${token}` }),
    );
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      errors: [{ message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expectNoLeak(res.text);
  });

  it.each(forgeries)(
    'closes a socket signing in with one %s with 4403, before looking up any session',
    async (_, make) => {
      const token = await make();
      const outcome = await withoutQueries(server, () => overWebSocket(server, { query: VIEWER }, token));
      expect(outcome).toEqual({ closed: 4403, text: expect.any(String) });
      expectNoLeak(outcome.text);
    },
  );

  it.each(['Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer a b', 'Token abc'])(
    'refuses the Authorization header %j with 401',
    async (authorization) => {
      const res = await withoutQueries(server, () => gql(server, VIEWER, undefined, { authorization }));
      expect(res.status).toBe(401);
      expect(res.body.errors).toEqual([
        { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
      ]);
    },
  );

  it.each<[string, unknown]>([
    ['Basic YWRtaW46YWRtaW4=', 'Basic YWRtaW46YWRtaW4='],
    ['Bearer', 'Bearer'],
    ['Bearer a b', 'Bearer a b'],
    ['a number', 42],
    ['an object', { token: 'x' }],
    ['a list of tokens', ['Bearer x', 'Bearer y']],
  ])('closes a socket whose authorization parameter is %s with 4403', async (_, authorization) => {
    const outcome = await withoutQueries(server, () => overWebSocketWith(server, { query: VIEWER }, { authorization }));
    expect(outcome.closed, outcome.text).toBe(4403);
  });

  it('accepts the genuine token of the same session, over HTTP and WebSocket', async () => {
    const res = await gql(server, VIEWER, undefined, bearer(genuine));
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.viewer).toEqual({ id: expect.any(String), role: 'ADMIN' });
    const ws = await overWebSocket(server, { query: VIEWER }, genuine);
    expect(ws.errors, ws.text).toBeUndefined();
    expect(ws.data).toEqual(res.body.data);
  });
});

describe('a well-signed token whose session was revoked', () => {
  it('is refused over HTTP with 401 and over WebSocket by closing with 4403', async () => {
    const session = await server.sessionFor('ADMIN');
    const { token } = await accessTokens(productionConfig()).sign({ ...session, role: 'ADMIN' });
    expect((await overWebSocket(server, { query: VIEWER }, token)).data).toMatchObject({ viewer: { role: 'ADMIN' } });
    await server.prisma.session.update({ where: { id: session.sessionId }, data: { revokedAt: new Date() } });

    const res = await gql(server, VIEWER, undefined, bearer(token));
    expect(res.status, res.text).toBe(401);
    expect(res.body.errors).toEqual([
      { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
    const ws = await overWebSocket(server, { query: VIEWER }, token);
    expect(ws.closed, ws.text).toBe(4403);
    expect(ws.data).toBeUndefined();
  });
});
