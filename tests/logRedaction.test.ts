// What a production server logs while customers sign up, fail to sign in, sign in and use their tokens: no password,
// no email address, no token, whichever way it was sent (a JSON body, a GET's query string, a header).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/testServer.js';

const EMAIL = 'ada.lovelace@example.com';
const PASSWORD = 'analytical engine 1843';
const WRONG_PASSWORD = 'difference engine 1822';

const lines: string[] = [];
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    env: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
    logStream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    }),
  });
});
afterAll(() => server?.close());

const SIGN_UP = `mutation SignUp($input: CustomerSignUpInput!) {
  customerSignUp(input: $input) { tokens { accessToken refreshToken } userErrors { code } }
}`;
const LOG_IN = `mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { tokens { accessToken refreshToken } userErrors { code } }
}`;

it('logs the requests without passwords, email addresses or tokens', async () => {
  const signUp = await server.gql(SIGN_UP, {
    input: { email: EMAIL, password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace' },
  });
  expect(signUp.data.customerSignUp.userErrors).toEqual([]);
  const failed = await server.gql(LOG_IN, { input: { email: EMAIL, password: WRONG_PASSWORD } });
  expect(failed.data.logIn.userErrors).toEqual([{ code: 'INVALID_CREDENTIALS' }]);
  const loggedIn = await server.gql(LOG_IN, { input: { email: EMAIL, password: PASSWORD } });
  const { accessToken, refreshToken } = loggedIn.data.logIn.tokens;

  const viewer = await server.gql('query Me { viewer { email } }', {}, accessToken);
  expect(viewer.data.viewer.email).toBe(EMAIL);
  const refreshed = await server.gql(
    'mutation Refresh($input: TokenRefreshInput!) { tokenRefresh(input: $input) { userErrors { code } } }',
    { input: { refreshToken } },
  );
  expect(refreshed.data.tokenRefresh.userErrors).toEqual([]);
  const reset = await server.gql(
    'mutation Reset($input: PasswordResetRequestInput!) { passwordResetRequest(input: $input) { userErrors { code } } }',
    { input: { email: EMAIL } },
  );
  expect(reset.data.passwordResetRequest.userErrors).toEqual([]);
  // A GET carries the operation and its variables in the URL.
  const query = new URLSearchParams({
    query: 'query Track($email: String!) { orderByNumber(number: 1001, email: $email) { number } }',
    variables: JSON.stringify({ email: EMAIL }),
  });
  const get = await fetch(`${server.url}?${query.toString()}`, {
    headers: {
      'apollo-require-preflight': 'true',
      authorization: `Bearer ${accessToken}`,
      cookie: 'sid=secret-cookie',
    },
  });
  expect(get.status).toBe(200);
  // A request that fails before GraphQL: its error is logged.
  await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: `{"query": "${EMAIL}", "password": "${PASSWORD}"`,
  });

  await new Promise((resolve) => setTimeout(resolve, 50)); // the last response's log line
  expect(lines.some((line) => line.includes('"graphql operation"'))).toBe(true);
  expect(lines.some((line) => line.includes('"request completed"'))).toBe(true);
  const logged = lines.join('\n');
  for (const secret of [PASSWORD, WRONG_PASSWORD, EMAIL, accessToken, refreshToken, 'secret-cookie']) {
    expect(logged).not.toContain(secret);
  }
  expect(logged).not.toMatch(/ada\.lovelace|Bearer ey/);
});
