// The hostile table of everyTransport.test.ts through the Lambda handler (API Gateway HTTP API events), in
// production: the same refusal as over HTTP and WebSocket, and no SQL sent while refusing.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, Context as LambdaContext } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeLambdaRuntime, handler } from '../../src/lambda.js';
import { startStatementCounter, type StatementCounter } from '../support/statementCounter.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { TEST_SECRET, testInstanceEnv } from '../support/testServer.js';
import { HOSTILE } from './hostile.js';
import { expectNoLeak, sleep } from './support.js';
import type { GraphQLRequest, Outcome } from './transports.js';

let database: TestDatabase;
let statements: StatementCounter;

beforeAll(async () => {
  database = await createTestDatabase();
  statements = await startStatementCounter(database.url);
  const env: Record<string, string> = {
    ...testInstanceEnv(database, statements.url),
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ANONYMOUS: '100000/0.001',
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  await overLambda({ query: '{ __typename }' }); // the cold start, with its own SQL, out of the way
});

afterAll(async () => {
  await closeLambdaRuntime();
  await statements?.close();
  await database?.drop();
  vi.unstubAllEnvs();
});

const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/lambda/http-api-post.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEventV2;

async function overLambda(request: GraphQLRequest, headers: Record<string, string> = {}): Promise<Outcome> {
  const body = JSON.stringify(request);
  const event: APIGatewayProxyEventV2 = {
    ...recorded,
    body,
    headers: { ...recorded.headers, ...headers, 'content-length': String(Buffer.byteLength(body)) },
    requestContext: { ...recorded.requestContext, requestId: randomUUID() },
  };
  const result = await handler(event, { awsRequestId: randomUUID() } as LambdaContext);
  const text = typeof result === 'string' ? result : (result.body ?? '');
  return { ...(JSON.parse(text) as object), status: typeof result === 'string' ? 200 : result.statusCode, text };
}

describe.each(HOSTILE.map((hostile) => [hostile.name, hostile] as const))('%s', (_, hostile) => {
  it('is refused through the Lambda handler with the same code and no SQL', async () => {
    statements.reset();
    const outcome = await overLambda(hostile.request);
    await sleep(25);
    expect(statements.statements()).toEqual([]);
    expect(outcome.errors, outcome.text).toHaveLength(hostile.errors ?? 1);
    for (const error of outcome.errors!) expect(error.extensions?.code, outcome.text).toBe(hostile.code);
    expect(Object.values(outcome.data ?? {}).filter((value) => value !== null)).toEqual([]);
    expect(outcome.text).not.toMatch(/did you mean/i);
    expectNoLeak(outcome.text, hostile.echoes);
  });
});

/** A token shaped as the server's, for a session that need not exist: each is refused before any is looked up. */
const forge = (alg: string, secret: string, expiresAt = Math.floor(Date.now() / 1000) + 600) =>
  new SignJWT({ role: 'ADMIN', sid: randomUUID() })
    .setProtectedHeader({ alg, typ: 'JWT', kid: 'k1' })
    .setSubject(randomUUID())
    .setIssuer('agora')
    .setAudience('agora-api')
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));

describe('a forged access token', () => {
  const none = (payload: object) =>
    `${Buffer.from('{"alg":"none","typ":"JWT","kid":"k1"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  it.each<[string, () => Promise<string> | string]>([
    ['alg "none"', () => none({ sub: randomUUID(), role: 'ADMIN', iss: 'agora', aud: 'agora-api' })],
    ['signed with another key', () => forge('HS256', 'Kx8vN2qLm5Rt9wPz3YbHc7Jf1GdS6aUeQo4Vi0Tn')],
    ['expired a minute ago', () => forge('HS256', TEST_SECRET, Math.floor(Date.now() / 1000) - 60)],
    ['not a JWT at all', () => 'not.a.jwt'],
  ])('%s is refused through the Lambda handler with 401 and no SQL', async (_, make) => {
    const token = await make();
    statements.reset();
    const outcome = await overLambda({ query: '{ viewer { id role } }' }, { authorization: `Bearer ${token}` });
    await sleep(25);
    expect(statements.statements()).toEqual([]);
    expect(outcome.status, outcome.text).toBe(401);
    expect(outcome.errors).toEqual([
      { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
  });
});
