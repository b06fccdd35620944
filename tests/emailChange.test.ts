// Changing an account's email: the current password is required, the new address must confirm with the token
// emailed to it, and the old address is told. A stolen access token alone (15 minutes) cannot move the account to
// the thief's mailbox and then take it over through a password reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { startMailer } from '../src/mail/mailer.js';
import { INVALID_CREDENTIALS } from './support/accountPayloads.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

const USER_ERRORS = 'userErrors { field message code }';
const DOCUMENTS = {
  customerSignUp: `mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { tokens { accessToken } ${USER_ERRORS} } }`,
  logIn: `mutation ($input: LogInInput!) { logIn(input: $input) { account { id } tokens { accessToken } ${USER_ERRORS} } }`,
  customerUpdate: `mutation ($input: CustomerUpdateInput!) { customerUpdate(input: $input) { account { email firstName } ${USER_ERRORS} } }`,
  customerEmailChangeRequest: `mutation ($input: CustomerEmailChangeRequestInput!) { customerEmailChangeRequest(input: $input) { account { email } ${USER_ERRORS} } }`,
  customerEmailChangeConfirm: `mutation ($input: CustomerEmailChangeConfirmInput!) { customerEmailChangeConfirm(input: $input) { success ${USER_ERRORS} } }`,
  passwordResetRequest: `mutation ($input: PasswordResetRequestInput!) { passwordResetRequest(input: $input) { ${USER_ERRORS} } }`,
  passwordReset: `mutation ($input: PasswordResetInput!) { passwordReset(input: $input) { success ${USER_ERRORS} } }`,
} as const;
type Name = keyof typeof DOCUMENTS;

async function run(name: Name, input: Record<string, unknown>, token?: string): Promise<any> {
  const res = await server.gql(DOCUMENTS[name], { input }, token);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data[name];
}

let serial = 0;
const uniqueEmail = (name = 'mover') => `${name}-${++serial}-${Date.now()}@example.test`;
const PASSWORD = 'correct horse battery staple';

async function signUp() {
  const email = uniqueEmail();
  const payload = await run('customerSignUp', { email, password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace' });
  expect(payload.userErrors).toEqual([]);
  return { email, token: payload.tokens.accessToken as string };
}

const emailOf = async (email: string) => (await server.prisma.account.findUnique({ where: { email } }))?.email;
const latestEmailTo = (to: string) =>
  server.prisma.outboxEmail.findFirst({ where: { to }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
const tokenIn = (body: string) => /^([\w-]{43})$/m.exec(body)?.[1];

describe('a thief with only an access token', () => {
  it('cannot change the email through customerUpdate: the field is gone', async () => {
    const victim = await signUp();
    const res = await server.gql(DOCUMENTS.customerUpdate, { input: { email: uniqueEmail('thief') } }, victim.token);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await emailOf(victim.email)).toBe(victim.email);
  });

  it('cannot start a change without the current password, and nothing is emailed', async () => {
    const victim = await signUp();
    const thief = uniqueEmail('thief');
    const payload = await run(
      'customerEmailChangeRequest',
      { newEmail: thief, currentPassword: 'a guess at the password' },
      victim.token,
    );
    expect(payload).toEqual({
      account: null,
      userErrors: [
        {
          field: ['input', 'currentPassword'],
          code: 'INVALID_CREDENTIALS',
          message: 'The current password is incorrect.',
        },
      ],
    });
    expect(await latestEmailTo(thief)).toBeNull();
    expect(await emailOf(victim.email)).toBe(victim.email);
  });
});

describe('the account holder', () => {
  it('changes the email once the new address confirms; the old address is told; the token works once', async () => {
    const { email, token } = await signUp();
    const newEmail = uniqueEmail('moved');

    const requested = await run(
      'customerEmailChangeRequest',
      { newEmail: newEmail.toUpperCase(), currentPassword: PASSWORD },
      token,
    );
    expect(requested).toEqual({ account: { email }, userErrors: [] });
    expect(await emailOf(email)).toBe(email);
    const notice = await latestEmailTo(email);
    expect(notice?.body).toContain(newEmail);
    const confirmation = await latestEmailTo(newEmail);
    const changeToken = tokenIn(confirmation!.body)!;
    expect(changeToken).toBeDefined();
    const [stored] = await server.prisma.emailChangeToken.findMany({ where: { newEmail } });
    expect(stored!.tokenHash).not.toBe(changeToken);

    expect(await run('customerEmailChangeConfirm', { token: changeToken })).toEqual({ success: true, userErrors: [] });
    expect(await emailOf(newEmail)).toBe(newEmail);
    expect((await run('logIn', { email: newEmail, password: PASSWORD })).userErrors).toEqual([]);
    expect(await run('logIn', { email, password: PASSWORD })).toEqual({ ...INVALID_CREDENTIALS });
    expect((await latestEmailTo(email))!.subject).toBe('Your Agora email has changed');

    expect(await run('customerEmailChangeConfirm', { token: changeToken })).toEqual({
      success: false,
      userErrors: [
        { field: ['input', 'token'], code: 'INVALID_TOKEN', message: 'This link is invalid or has expired.' },
      ],
    });
  });

  it('finds that reset links sent to the old address stop working after the change', async () => {
    const { email, token } = await signUp();
    expect((await run('passwordResetRequest', { email })).userErrors).toEqual([]);
    const resetToken = tokenIn((await latestEmailTo(email))!.body)!;
    const newEmail = uniqueEmail('moved');
    await run('customerEmailChangeRequest', { newEmail, currentPassword: PASSWORD }, token);
    await run('customerEmailChangeConfirm', { token: tokenIn((await latestEmailTo(newEmail))!.body)! });

    const reset = await run('passwordReset', { token: resetToken, newPassword: 'a brand new passphrase' });
    expect(reset.userErrors.map((error: { code: string }) => error.code)).toEqual(['INVALID_TOKEN']);
  });

  it.each([
    ['an invalid email', 'nope@', 'Enter a valid email address.'],
    ['an email over 254 characters', `${'a'.repeat(250)}@example.test`, 'Email must be at most 254 characters.'],
  ])('is refused %s as INVALID', async (_, newEmail, message) => {
    const { token } = await signUp();
    expect(await run('customerEmailChangeRequest', { newEmail, currentPassword: PASSWORD }, token)).toEqual({
      account: null,
      userErrors: [{ field: ['input', 'newEmail'], code: 'INVALID', message }],
    });
  });

  it('learns that the new email is taken only on confirming it, and keeps the old one', async () => {
    const { email, token } = await signUp();
    const taken = await signUp();
    expect(
      (await run('customerEmailChangeRequest', { newEmail: taken.email, currentPassword: PASSWORD }, token)).userErrors,
    ).toEqual([]);
    const changeToken = tokenIn((await latestEmailTo(taken.email))!.body)!;
    expect(await run('customerEmailChangeConfirm', { token: changeToken })).toEqual({
      success: false,
      userErrors: [{ field: null, code: 'TAKEN', message: 'An account with this email already exists.' }],
    });
    expect(await emailOf(email)).toBe(email);
  });

  it('gets a confirmation token that the outbox no longer holds once the email is sent', async () => {
    const { token } = await signUp();
    const newEmail = uniqueEmail('moved');
    await run('customerEmailChangeRequest', { newEmail, currentPassword: PASSWORD }, token);
    const changeToken = tokenIn((await latestEmailTo(newEmail))!.body)!;
    const sent: string[] = [];
    const mailer = startMailer(
      server.prisma,
      { send: async ({ body }) => void sent.push(body) },
      createLogger({ LOG_LEVEL: 'silent' }),
      60_000,
    );
    await mailer.flush();
    await mailer.stop();
    expect(sent.some((body) => body.includes(changeToken))).toBe(true);
    expect(JSON.stringify(await server.prisma.outboxEmail.findMany())).not.toContain(changeToken);
    expect(await run('customerEmailChangeConfirm', { token: changeToken })).toEqual({ success: true, userErrors: [] });
  });

  it('changes names through customerUpdate as before', async () => {
    const { email, token } = await signUp();
    expect(await run('customerUpdate', { firstName: 'Augusta' }, token)).toEqual({
      account: { email, firstName: 'Augusta' },
      userErrors: [],
    });
  });
});
