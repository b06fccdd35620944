// Accounts end to end over HTTP: signing up and in, sessions and their tokens, the account's own details, password
// changes and resets, addresses, what admins do to accounts, and the first admin from the environment. Each flow
// checks the exact payload and what it left in the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/globalId.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';
import { INVALID_CREDENTIALS, REFRESH_REFUSED, RESET_REFUSED } from './support/accountPayloads.js';

let server: TestServer;
let adminToken: string;

beforeAll(async () => {
  server = await startTestServer();
  adminToken = await server.tokenFor('ADMIN');
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL plumbing

const USER_ERRORS = 'userErrors { field message code }';
const TOKENS = 'tokens { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt }';
const ACCOUNT = 'id email firstName lastName role disabled createdAt';
const ADDRESS = 'id firstName lastName company line1 line2 city province postalCode countryCode phone';

/** Each mutation's input type and what to select of its payload besides the user errors. */
const MUTATIONS = {
  customerSignUp: { input: 'CustomerSignUpInput', select: `account { ${ACCOUNT} } ${TOKENS}` },
  logIn: { input: 'LogInInput', select: `account { ${ACCOUNT} } ${TOKENS}` },
  tokenRefresh: { input: 'TokenRefreshInput', select: TOKENS },
  logOut: { input: 'LogOutInput', select: 'endedSessionCount' },
  customerUpdate: { input: 'CustomerUpdateInput', select: `account { ${ACCOUNT} }` },
  passwordChange: { input: 'PasswordChangeInput', select: 'account { id }' },
  passwordResetRequest: { input: 'PasswordResetRequestInput', select: '' },
  passwordReset: { input: 'PasswordResetInput', select: 'success' },
  customerAddressCreate: { input: 'CustomerAddressCreateInput', select: `address { ${ADDRESS} }` },
  customerAddressUpdate: { input: 'CustomerAddressUpdateInput', select: `address { ${ADDRESS} }` },
  customerAddressDelete: { input: 'CustomerAddressDeleteInput', select: 'deletedAddressId' },
  customerAddressSetDefault: {
    input: 'CustomerAddressSetDefaultInput',
    select: 'account { id defaultAddress { id } }',
  },
  staffCreate: { input: 'StaffCreateInput', select: `account { ${ACCOUNT} }` },
  accountRoleUpdate: { input: 'AccountRoleUpdateInput', select: 'account { id role }' },
  accountDisable: { input: 'AccountDisableInput', select: 'account { id disabled }' },
  accountEnable: { input: 'AccountEnableInput', select: 'account { id disabled }' },
} as const;
type MutationName = keyof typeof MUTATIONS;
type Input = Record<string, unknown>;

function mutate(name: MutationName, input: Input, token?: string): Promise<GraphQLResponse> {
  const { input: type, select } = MUTATIONS[name];
  return server.gql(
    `mutation ($input: ${type}!) { ${name}(input: $input) { ${select} ${USER_ERRORS} } }`,
    { input },
    token,
  );
}

/** The payload of a mutation that ran without GraphQL errors (it may still hold user errors). */
async function run(name: MutationName, input: Input, token?: string): Promise<any> {
  const res = await mutate(name, input, token);
  expect(res.errors).toBeUndefined();
  expect(res.status).toBe(200);
  return res.data[name];
}

const viewerQuery = (token?: string, select = ACCOUNT) => server.gql(`{ viewer { ${select} } }`, undefined, token);

/** The viewer that `token` stands for, which must be accepted. */
async function viewerOf(token: string, select = ACCOUNT): Promise<any> {
  const res = await viewerQuery(token, select);
  expect(res.errors).toBeUndefined();
  return res.data.viewer;
}

/** The only answer a token of an ended session, or of a disabled account, gets: 401 and no detail. */
async function expectRefused(token: string) {
  const res = await viewerQuery(token);
  expect(res.status).toBe(401);
  expect(res.data).toBeUndefined();
  expect(res.errors).toEqual([
    { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

let serial = 0;
const uniqueEmail = (name = 'customer') => `${name}-${++serial}@example.test`;
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'tr0mbone-gazebo-quartz';

interface Customer {
  email: string;
  password: string;
  /** Global ID. */
  id: string;
  dbId: string;
  tokens: { accessToken: string; refreshToken: string; accessTokenExpiresAt: string; refreshTokenExpiresAt: string };
}

/** A new customer, signed up through the API: its first session's tokens come with it. */
async function signUp(overrides: Partial<Record<'email' | 'password' | 'firstName' | 'lastName', string>> = {}) {
  const input = { email: uniqueEmail(), password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace', ...overrides };
  const payload = await run('customerSignUp', input);
  expect(payload.userErrors).toEqual([]);
  const row = await server.prisma.account.findUniqueOrThrow({ where: { email: input.email.trim().toLowerCase() } });
  return { email: row.email, password: input.password, id: payload.account.id, dbId: row.id, tokens: payload.tokens };
}

/** Tokens of a new session of the account, which must sign in. */
async function logIn(email: string, password: string): Promise<Customer['tokens']> {
  const payload = await run('logIn', { email, password });
  expect(payload.userErrors).toEqual([]);
  return payload.tokens;
}

const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const OPAQUE_TOKEN = /^[\w-]{43}$/;

/** That `iso` lies about `seconds` from now (within the few seconds a test takes). */
function expectExpiryIn(iso: string, seconds: number) {
  expect(iso).toMatch(ISO_MILLIS);
  const remaining = (Date.parse(iso) - Date.now()) / 1000;
  expect(remaining).toBeGreaterThan(seconds - 15);
  expect(remaining).toBeLessThanOrEqual(seconds);
}

const jwtPart = (token: string, index: 0 | 1) =>
  JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'));

const liveSessions = (accountId: string) => server.prisma.session.count({ where: { accountId, revokedAt: null } });

/** The token in the latest email to `to`, and the email. */
async function tokenFromLatestEmailTo(to: string) {
  const email = await server.prisma.outboxEmail.findFirstOrThrow({
    where: { to },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  const token = /^([\w-]{43})$/m.exec(email.body)?.[1];
  expect(token).toBeDefined();
  return { email, token: token! };
}

// ---------------------------------------------------------------------------------------------------------------

describe('customerSignUp', () => {
  it('creates a customer with its email in lower case, starts a session and returns its tokens', async () => {
    const res = await mutate('customerSignUp', {
      email: '  Grace.Hopper@Example.TEST ',
      password: PASSWORD,
      firstName: ' Grace ',
      lastName: 'Hopper',
    });

    expect(res.errors).toBeUndefined();
    const row = await server.prisma.account.findUniqueOrThrow({ where: { email: 'grace.hopper@example.test' } });
    expect(res.data.customerSignUp).toEqual({
      account: {
        id: toGlobalId('Account', row.id),
        email: 'grace.hopper@example.test',
        firstName: 'Grace',
        lastName: 'Hopper',
        role: 'CUSTOMER',
        disabled: false,
        createdAt: row.createdAt.toISOString(),
      },
      tokens: {
        accessToken: expect.stringMatching(JWT),
        accessTokenExpiresAt: expect.stringMatching(ISO_MILLIS),
        refreshToken: expect.stringMatching(OPAQUE_TOKEN),
        refreshTokenExpiresAt: expect.stringMatching(ISO_MILLIS),
      },
      userErrors: [],
    });
    expect(row).toMatchObject({ role: 'CUSTOMER', disabledAt: null, defaultAddressId: null });

    const { tokens } = res.data.customerSignUp;
    expectExpiryIn(tokens.accessTokenExpiresAt, 15 * 60);
    expectExpiryIn(tokens.refreshTokenExpiresAt, 30 * 24 * 60 * 60);
    // the session in the database, with only a digest of its refresh token
    const sessions = await server.prisma.session.findMany({
      where: { accountId: row.id },
      include: { refreshTokens: true },
    });
    expect(sessions).toEqual([
      expect.objectContaining({ revokedAt: null, refreshTokens: [expect.objectContaining({ usedAt: null })] }),
    ]);
    expect(sessions[0]!.refreshTokens[0]!.tokenHash).not.toBe(tokens.refreshToken);
    expect(jwtPart(tokens.accessToken, 1)).toMatchObject({
      sub: row.id,
      sid: sessions[0]!.id,
      role: 'CUSTOMER',
      exp: Date.parse(tokens.accessTokenExpiresAt) / 1000,
    });

    expect(await viewerOf(tokens.accessToken)).toEqual(res.data.customerSignUp.account);
  });

  it('stores an Argon2id hash of the password, never the password', async () => {
    const password = 'a-very-private-Passphrase-42';
    const { dbId } = await signUp({ password });
    const { passwordHash } = await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } });
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(passwordHash).not.toContain(password);
  });

  it('refuses an email that is taken, in any case, with TAKEN', async () => {
    const { email } = await signUp();
    const res = await mutate('customerSignUp', {
      email: email.toUpperCase(),
      password: PASSWORD,
      firstName: 'Copy',
      lastName: 'Cat',
    });
    expect(res.data.customerSignUp).toEqual({
      account: null,
      tokens: null,
      userErrors: [{ field: ['input', 'email'], code: 'TAKEN', message: 'An account with this email already exists.' }],
    });
    expect(await server.prisma.account.findMany({ where: { email }, select: { firstName: true } })).toEqual([
      { firstName: 'Ada' },
    ]);
  });

  const fieldCases: [string, Input, { field: string[]; code: string; message: string }[]][] = [
    [
      'an invalid email',
      { email: 'not-an-email' },
      [{ field: ['input', 'email'], code: 'INVALID', message: 'Enter a valid email address.' }],
    ],
    [
      'blank names',
      { firstName: '   ', lastName: '' },
      [
        { field: ['input', 'firstName'], code: 'BLANK', message: 'First name cannot be blank.' },
        { field: ['input', 'lastName'], code: 'BLANK', message: 'Last name cannot be blank.' },
      ],
    ],
    [
      'a first name over 100 characters',
      { firstName: 'x'.repeat(101) },
      [{ field: ['input', 'firstName'], code: 'INVALID', message: 'First name must be at most 100 characters.' }],
    ],
  ];

  it.each(fieldCases)('refuses %s with user errors and stores nothing', async (_, overrides, userErrors) => {
    const before = await server.prisma.account.count();
    const input = { email: uniqueEmail(), password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace', ...overrides };
    expect(await run('customerSignUp', input)).toEqual({ account: null, tokens: null, userErrors });
    expect(await server.prisma.account.count()).toBe(before);
  });

  const passwordCases: [string, string, string, string][] = [
    ['PASSWORD_TOO_SHORT', 'nine-char', 'a@example.test', 'Use at least 10 characters.'],
    [
      'PASSWORD_TOO_COMMON',
      'password123',
      'b@example.test',
      'This password is too common; choose one that is harder to guess.',
    ],
    [
      'PASSWORD_TOO_COMMON',
      'PassWord123',
      'c@example.test',
      'This password is too common; choose one that is harder to guess.',
    ],
    [
      'PASSWORD_CONTAINS_EMAIL',
      'x-Margaret.Hamilton-99',
      'margaret.hamilton@example.test',
      'The password must not contain your email address.',
    ],
    ['PASSWORD_TOO_LONG', 'x'.repeat(257), 'd@example.test', 'Use at most 256 characters.'],
  ];

  it.each(passwordCases)('refuses a weak password with %s (%s)', async (code, password, email, message) => {
    const payload = await run('customerSignUp', { email, password, firstName: 'Ada', lastName: 'Lovelace' });
    expect(payload).toEqual({
      account: null,
      tokens: null,
      userErrors: [{ field: ['input', 'password'], code, message }],
    });
    expect(await server.prisma.account.count({ where: { email } })).toBe(0);
  });

  it.each([
    ['exactly 10 characters', 'tiny-pass1'],
    ['exactly 256 characters', `${'x'.repeat(250)}-12345`],
  ])('accepts a password of %s', async (_, password) => {
    const { email } = await signUp({ password });
    await logIn(email, password);
  });
});

describe('logIn', () => {
  it('signs in with the email in any case and starts a new session', async () => {
    const { email, id, dbId } = await signUp({ firstName: 'Katherine', lastName: 'Johnson' });

    const payload = await run('logIn', { email: ` ${email.toUpperCase()} `, password: PASSWORD });

    expect(payload).toEqual({
      account: expect.objectContaining({ id, email, firstName: 'Katherine', lastName: 'Johnson', role: 'CUSTOMER' }),
      tokens: {
        accessToken: expect.stringMatching(JWT),
        accessTokenExpiresAt: expect.stringMatching(ISO_MILLIS),
        refreshToken: expect.stringMatching(OPAQUE_TOKEN),
        refreshTokenExpiresAt: expect.stringMatching(ISO_MILLIS),
      },
      userErrors: [],
    });
    expect(await liveSessions(dbId)).toBe(2);
    expect(await viewerOf(payload.tokens.accessToken)).toEqual(payload.account);
  });

  it('a wrong password, an unknown email and a disabled account fail identically, starting no session', async () => {
    const known = await signUp();
    const disabled = await signUp();
    await server.prisma.account.update({ where: { id: disabled.dbId }, data: { disabledAt: new Date() } });
    const sessionsBefore = await server.prisma.session.count();

    const payloads = [
      await run('logIn', { email: known.email, password: 'not the right password' }),
      await run('logIn', { email: uniqueEmail('nobody'), password: PASSWORD }),
      await run('logIn', { email: disabled.email, password: PASSWORD }),
    ];

    expect(payloads).toEqual([INVALID_CREDENTIALS, INVALID_CREDENTIALS, INVALID_CREDENTIALS]);
    expect(await server.prisma.session.count()).toBe(sessionsBefore);
  });
});

describe('viewer', () => {
  it('is null for an anonymous visitor', async () => {
    const res = await viewerQuery();
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ viewer: null });
  });
});

describe('tokenRefresh', () => {
  it('exchanges a refresh token for new tokens once; the old one then fails with INVALID_TOKEN', async () => {
    const { email, id } = await signUp();
    const first = await logIn(email, PASSWORD);

    const payload = await run('tokenRefresh', { refreshToken: first.refreshToken });

    expect(payload).toEqual({
      tokens: {
        accessToken: expect.stringMatching(JWT),
        accessTokenExpiresAt: expect.stringMatching(ISO_MILLIS),
        refreshToken: expect.stringMatching(OPAQUE_TOKEN),
        refreshTokenExpiresAt: expect.stringMatching(ISO_MILLIS),
      },
      userErrors: [],
    });
    const next = payload.tokens;
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expectExpiryIn(next.accessTokenExpiresAt, 15 * 60);
    expectExpiryIn(next.refreshTokenExpiresAt, 30 * 24 * 60 * 60);
    // the same session goes on
    expect(jwtPart(next.accessToken, 1).sid).toBe(jwtPart(first.accessToken, 1).sid);
    expect((await viewerOf(next.accessToken)).id).toBe(id);

    expect(await run('tokenRefresh', { refreshToken: first.refreshToken })).toEqual(REFRESH_REFUSED);
  });

  it('refuses an unknown refresh token and an expired one with INVALID_TOKEN', async () => {
    const { tokens, dbId } = await signUp();
    await server.prisma.refreshToken.updateMany({
      where: { session: { accountId: dbId } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await run('tokenRefresh', { refreshToken: 'x'.repeat(43) })).toEqual(REFRESH_REFUSED);
    expect(await run('tokenRefresh', { refreshToken: tokens.refreshToken })).toEqual(REFRESH_REFUSED);
  });
});

describe('logOut', () => {
  it("ends the refresh token's session only: its tokens stop working, other sessions go on", async () => {
    const { email, tokens: ended, dbId } = await signUp();
    const other = await logIn(email, PASSWORD);

    expect(await run('logOut', { refreshToken: ended.refreshToken })).toEqual({ endedSessionCount: 1, userErrors: [] });

    await expectRefused(ended.accessToken);
    expect(await run('tokenRefresh', { refreshToken: ended.refreshToken })).toEqual(REFRESH_REFUSED);
    expect((await viewerOf(other.accessToken)).email).toBe(email);
    expect((await run('tokenRefresh', { refreshToken: other.refreshToken })).userErrors).toEqual([]);
    expect(await liveSessions(dbId)).toBe(1);
  });

  it('a second logOut with the same token ends nothing and says INVALID_TOKEN', async () => {
    const { tokens } = await signUp();
    await run('logOut', { refreshToken: tokens.refreshToken });
    expect(await run('logOut', { refreshToken: tokens.refreshToken })).toEqual({
      endedSessionCount: 0,
      userErrors: [
        { field: ['input', 'refreshToken'], code: 'INVALID_TOKEN', message: 'This session has already ended.' },
      ],
    });
  });

  it('everywhere: ends every session of the account and no one else’s', async () => {
    const { email, tokens: first, dbId } = await signUp();
    const second = await logIn(email, PASSWORD);
    const third = await logIn(email, PASSWORD);
    const bystander = await signUp();

    expect(await run('logOut', { refreshToken: second.refreshToken, everywhere: true })).toEqual({
      endedSessionCount: 3,
      userErrors: [],
    });

    for (const tokens of [first, second, third]) await expectRefused(tokens.accessToken);
    expect(await run('tokenRefresh', { refreshToken: third.refreshToken })).toEqual(REFRESH_REFUSED);
    expect(await liveSessions(dbId)).toBe(0);
    expect((await viewerOf(bystander.tokens.accessToken)).email).toBe(bystander.email);
  });
});

describe('customerUpdate', () => {
  it('changes the names and keeps fields left out', async () => {
    const { id, email, tokens, dbId } = await signUp();

    expect(await run('customerUpdate', { firstName: ' Augusta ', lastName: 'King' }, tokens.accessToken)).toEqual({
      account: expect.objectContaining({ id, email, firstName: 'Augusta', lastName: 'King' }),
      userErrors: [],
    });
    expect(await run('customerUpdate', { lastName: 'Byron' }, tokens.accessToken)).toEqual({
      account: expect.objectContaining({ id, email, firstName: 'Augusta', lastName: 'Byron' }),
      userErrors: [],
    });
    expect(await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } })).toMatchObject({
      email,
      firstName: 'Augusta',
      lastName: 'Byron',
    });
  });

  // The email changes through customerEmailChangeRequest and customerEmailChangeConfirm (tests/emailChange.test.ts).
  it.each([['a blank first name', 'BLANK']] as const)('refuses %s with %s and changes nothing', async (_, code) => {
    const { tokens, dbId } = await signUp();
    const before = await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } });
    const cases = {
      BLANK: [{ firstName: ' ' }, ['input', 'firstName'], 'First name cannot be blank.'],
    } as const;
    const [input, field, message] = cases[code];

    expect(await run('customerUpdate', input, tokens.accessToken)).toEqual({
      account: null,
      userErrors: [{ field, code, message }],
    });
    expect(await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } })).toEqual(before);
  });
});

describe('passwordChange', () => {
  it('refuses a wrong current password with INVALID_CREDENTIALS on currentPassword', async () => {
    const { tokens, dbId } = await signUp();
    const before = await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } });

    expect(
      await run(
        'passwordChange',
        { currentPassword: 'not my password', newPassword: NEW_PASSWORD },
        tokens.accessToken,
      ),
    ).toEqual({
      account: null,
      userErrors: [
        {
          field: ['input', 'currentPassword'],
          code: 'INVALID_CREDENTIALS',
          message: 'The current password is incorrect.',
        },
      ],
    });
    expect((await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } })).passwordHash).toBe(
      before.passwordHash,
    );
  });

  it('refuses a weak new password with its policy code on newPassword', async () => {
    const { tokens } = await signUp();
    expect(
      await run('passwordChange', { currentPassword: PASSWORD, newPassword: 'qwertyuiop' }, tokens.accessToken),
    ).toEqual({
      account: null,
      userErrors: [
        {
          field: ['input', 'newPassword'],
          code: 'PASSWORD_TOO_COMMON',
          message: 'This password is too common; choose one that is harder to guess.',
        },
      ],
    });
  });

  it('sets the new password and ends the other sessions of the account, not the current one', async () => {
    const { id, email, tokens: current, dbId } = await signUp();
    const other = await logIn(email, PASSWORD);
    const bystander = await signUp();

    expect(
      await run('passwordChange', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, current.accessToken),
    ).toEqual({ account: { id }, userErrors: [] });

    expect((await viewerOf(current.accessToken)).id).toBe(id);
    await expectRefused(other.accessToken);
    expect(await run('tokenRefresh', { refreshToken: other.refreshToken })).toEqual(REFRESH_REFUSED);
    expect(await liveSessions(dbId)).toBe(1);
    expect((await viewerOf(bystander.tokens.accessToken)).id).toBe(bystander.id);
    await logIn(email, NEW_PASSWORD);
    expect(await run('logIn', { email, password: PASSWORD })).toEqual(INVALID_CREDENTIALS);
  });
});

describe('passwordResetRequest and passwordReset', () => {
  it('a request for an unknown email answers the same and queues no email', async () => {
    const before = await server.prisma.outboxEmail.count();
    expect(await run('passwordResetRequest', { email: uniqueEmail('nobody') })).toEqual({ userErrors: [] });
    expect(await server.prisma.outboxEmail.count()).toBe(before);
  });

  it('a request for an account queues an email to it carrying a single-use token, valid for an hour', async () => {
    const { email, dbId } = await signUp();

    expect(await run('passwordResetRequest', { email: ` ${email.toUpperCase()}` })).toEqual({ userErrors: [] });

    const { email: sent, token } = await tokenFromLatestEmailTo(email);
    expect(sent).toMatchObject({ to: email, subject: 'Reset your Agora password', sentAt: null });
    expect(sent.body).toContain('Hello Ada,');
    const stored = await server.prisma.passwordResetToken.findMany({ where: { accountId: dbId } });
    expect(stored).toEqual([expect.objectContaining({ usedAt: null })]);
    expect(stored[0]!.tokenHash).not.toBe(token);
    expectExpiryIn(stored[0]!.expiresAt.toISOString(), 60 * 60);
  });

  it('the token sets a new password once, ending every session; a second use is INVALID_TOKEN', async () => {
    const { email, tokens: first, dbId } = await signUp();
    const second = await logIn(email, PASSWORD);
    await run('passwordResetRequest', { email });
    const { token } = await tokenFromLatestEmailTo(email);

    // a weak password is refused and does not use the token up
    expect(await run('passwordReset', { token, newPassword: 'short' })).toEqual({
      success: false,
      userErrors: [
        { field: ['input', 'newPassword'], code: 'PASSWORD_TOO_SHORT', message: 'Use at least 10 characters.' },
      ],
    });
    expect(await run('passwordReset', { token, newPassword: NEW_PASSWORD })).toEqual({ success: true, userErrors: [] });

    for (const tokens of [first, second]) await expectRefused(tokens.accessToken);
    expect(await liveSessions(dbId)).toBe(0);
    await logIn(email, NEW_PASSWORD);
    expect(await run('logIn', { email, password: PASSWORD })).toEqual(INVALID_CREDENTIALS);

    expect(await run('passwordReset', { token, newPassword: 'yet-another-passphrase' })).toEqual(RESET_REFUSED);
    await logIn(email, NEW_PASSWORD);
  });

  it('an expired token is INVALID_TOKEN and changes nothing', async () => {
    const { email, dbId } = await signUp();
    await run('passwordResetRequest', { email });
    const { token } = await tokenFromLatestEmailTo(email);
    await server.prisma.passwordResetToken.updateMany({
      where: { accountId: dbId },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });

    expect(await run('passwordReset', { token, newPassword: NEW_PASSWORD })).toEqual(RESET_REFUSED);
    await logIn(email, PASSWORD);
  });

  it('older links stop working once a password is set, by reset or by passwordChange', async () => {
    const { email } = await signUp();
    await run('passwordResetRequest', { email });
    const { token: older } = await tokenFromLatestEmailTo(email);
    await run('passwordResetRequest', { email });
    const { token: newer } = await tokenFromLatestEmailTo(email);

    expect(await run('passwordReset', { token: newer, newPassword: NEW_PASSWORD })).toEqual({
      success: true,
      userErrors: [],
    });
    expect(await run('passwordReset', { token: older, newPassword: 'an attacker passphrase' })).toEqual(RESET_REFUSED);

    const signedIn = await logIn(email, NEW_PASSWORD);
    await run('passwordResetRequest', { email });
    const { token: pending } = await tokenFromLatestEmailTo(email);
    const changed = await run(
      'passwordChange',
      { currentPassword: NEW_PASSWORD, newPassword: 'a third passphrase here' },
      signedIn.accessToken,
    );
    expect(changed.userErrors).toEqual([]);
    expect(await run('passwordReset', { token: pending, newPassword: 'an attacker passphrase' })).toEqual(
      RESET_REFUSED,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('addresses', () => {
  const HOME = {
    firstName: 'Ada',
    lastName: 'Lovelace',
    company: '',
    line1: ' Unter den Linden 1 ',
    line2: null,
    city: 'Berlin',
    province: null,
    postalCode: '10117',
    countryCode: 'de',
    phone: '+4930123456',
  };
  const STORED_HOME = { ...HOME, company: null, line1: 'Unter den Linden 1', countryCode: 'DE' };
  const OFFICE = {
    firstName: 'Ada',
    lastName: 'King',
    company: 'Analytical Engines Ltd',
    line1: '12 St James’s Square',
    line2: 'Floor 2',
    city: 'London',
    province: 'Greater London',
    postalCode: 'sw1y 4lb',
    countryCode: 'GB',
    phone: null,
  };
  const STORED_OFFICE = { ...OFFICE, postalCode: 'SW1Y 4LB' };

  const create = (token: string, address: Input, setAsDefault?: boolean) =>
    run('customerAddressCreate', { address, ...(setAsDefault !== undefined && { setAsDefault }) }, token);

  async function created(token: string, address: Input, setAsDefault?: boolean): Promise<string> {
    const payload = await create(token, address, setAsDefault);
    expect(payload.userErrors).toEqual([]);
    return payload.address.id;
  }

  const addressesOf = async (token: string) =>
    viewerOf(token, `addresses { ${ADDRESS} } defaultAddress { id }`) as Promise<{
      addresses: Record<string, unknown>[];
      defaultAddress: { id: string } | null;
    }>;

  it('create: stores the address normalized (country and postal code in upper case, empty text as null)', async () => {
    const { tokens, dbId } = await signUp();

    const payload = await create(tokens.accessToken, HOME);

    const row = await server.prisma.address.findFirstOrThrow({ where: { accountId: dbId } });
    expect(payload).toEqual({ address: { id: toGlobalId('Address', row.id), ...STORED_HOME }, userErrors: [] });
    expect(row).toMatchObject(STORED_HOME);
    expect(await addressesOf(tokens.accessToken)).toEqual({ addresses: [payload.address], defaultAddress: null });
  });

  const invalid: [string, Input, { field: string[]; code: string; message: string }[]][] = [
    [
      'an unknown country',
      { countryCode: 'XX' },
      [
        {
          field: ['input', 'address', 'countryCode'],
          code: 'INVALID',
          message: 'Enter an ISO 3166-1 alpha-2 country code.',
        },
      ],
    ],
    [
      'a three-letter country code',
      { countryCode: 'DEU' },
      [
        {
          field: ['input', 'address', 'countryCode'],
          code: 'INVALID',
          message: 'Enter an ISO 3166-1 alpha-2 country code.',
        },
      ],
    ],
    [
      'a phone number not in international format',
      { phone: '030 123456' },
      [
        {
          field: ['input', 'address', 'phone'],
          code: 'INVALID',
          message: 'Enter the phone number in international format, such as +4930123456.',
        },
      ],
    ],
    [
      'a blank first line',
      { line1: '   ' },
      [{ field: ['input', 'address', 'line1'], code: 'BLANK', message: 'Address line 1 cannot be blank.' }],
    ],
    [
      'a malformed postal code and a blank city',
      { postalCode: '#1', city: '' },
      [
        { field: ['input', 'address', 'city'], code: 'BLANK', message: 'City cannot be blank.' },
        { field: ['input', 'address', 'postalCode'], code: 'INVALID', message: 'Enter a valid postal code.' },
      ],
    ],
  ];

  it.each(invalid)('create refuses %s, on its path under input.address', async (_, overrides, userErrors) => {
    const { tokens, dbId } = await signUp();
    expect(await create(tokens.accessToken, { ...HOME, ...overrides }, true)).toEqual({ address: null, userErrors });
    expect(await server.prisma.address.count({ where: { accountId: dbId } })).toBe(0);
    expect((await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } })).defaultAddressId).toBeNull();
  });

  it.each(invalid)('update refuses %s and leaves the address as it was', async (_, overrides, userErrors) => {
    const { tokens } = await signUp();
    const id = await created(tokens.accessToken, HOME);
    expect(
      await run('customerAddressUpdate', { id, address: { ...OFFICE, ...overrides } }, tokens.accessToken),
    ).toEqual({ address: null, userErrors });
    expect((await addressesOf(tokens.accessToken)).addresses).toEqual([{ id, ...STORED_HOME }]);
  });

  it('oldest first; setAsDefault, customerAddressSetDefault, update as a whole, delete', async () => {
    const { id: accountId, tokens, dbId } = await signUp();
    const token = tokens.accessToken;

    const first = await created(token, HOME);
    expect((await addressesOf(token)).defaultAddress).toBeNull();
    const second = await created(token, OFFICE, true);
    const third = await created(token, { ...HOME, line1: 'Pariser Platz 2' }, false);
    expect(await addressesOf(token)).toEqual({
      addresses: [
        { id: first, ...STORED_HOME },
        { id: second, ...STORED_OFFICE },
        { id: third, ...STORED_HOME, line1: 'Pariser Platz 2' },
      ],
      defaultAddress: { id: second },
    });

    expect(await run('customerAddressSetDefault', { id: first }, token)).toEqual({
      account: { id: accountId, defaultAddress: { id: first } },
      userErrors: [],
    });

    // the address is replaced as a whole: fields left out become null
    const officeWithoutExtras = { ...OFFICE, line2: undefined, company: undefined };
    expect(await run('customerAddressUpdate', { id: third, address: officeWithoutExtras }, token)).toEqual({
      address: { id: third, ...STORED_OFFICE, line2: null, company: null },
      userErrors: [],
    });

    // deleting the default address leaves the account without one
    expect(await run('customerAddressDelete', { id: first }, token)).toEqual({
      deletedAddressId: first,
      userErrors: [],
    });
    expect(await addressesOf(token)).toEqual({
      addresses: [
        { id: second, ...STORED_OFFICE },
        { id: third, ...STORED_OFFICE, line2: null, company: null },
      ],
      defaultAddress: null,
    });
    expect(await server.prisma.address.count({ where: { accountId: dbId } })).toBe(2);
    expect((await server.prisma.account.findUniqueOrThrow({ where: { id: dbId } })).defaultAddressId).toBeNull();
  });

  it('a deleted or unknown address is NOT_FOUND for update, delete and set-default', async () => {
    const { tokens } = await signUp();
    const token = tokens.accessToken;
    const gone = await created(token, HOME);
    await run('customerAddressDelete', { id: gone }, token);
    const notFound = [{ field: ['input', 'id'], code: 'NOT_FOUND', message: 'No address with this ID.' }];

    for (const id of [gone, 'not-an-id']) {
      expect(await run('customerAddressUpdate', { id, address: HOME }, token)).toEqual({
        address: null,
        userErrors: notFound,
      });
      expect(await run('customerAddressDelete', { id }, token)).toEqual({
        deletedAddressId: null,
        userErrors: notFound,
      });
      expect(await run('customerAddressSetDefault', { id }, token)).toEqual({ account: null, userErrors: notFound });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('staff administration', () => {
  const categoryCreate = (token: string) =>
    server.gql(
      'mutation ($name: String!) { categoryCreate(input: { name: $name }) { category { name } userErrors { code } } }',
      { name: `Category ${++serial}` },
      token,
    );

  /** A staff account signed in through the API (a signed-up customer that an admin promoted). */
  async function staffMember() {
    const customer = await signUp();
    await run('accountRoleUpdate', { accountId: customer.id, role: 'STAFF' }, adminToken);
    return customer;
  }

  it('staffCreate: an account without a password, and an invitation whose token sets one', async () => {
    const payload = await run(
      'staffCreate',
      { email: ' New.Staff@Example.TEST', firstName: 'Sam', lastName: 'Stock', role: 'STAFF' },
      adminToken,
    );

    const row = await server.prisma.account.findUniqueOrThrow({ where: { email: 'new.staff@example.test' } });
    expect(payload).toEqual({
      account: {
        id: toGlobalId('Account', row.id),
        email: 'new.staff@example.test',
        firstName: 'Sam',
        lastName: 'Stock',
        role: 'STAFF',
        disabled: false,
        createdAt: row.createdAt.toISOString(),
      },
      userErrors: [],
    });
    expect(row.passwordHash).toBeNull();
    expect(await run('logIn', { email: 'new.staff@example.test', password: '' })).toEqual(INVALID_CREDENTIALS);

    const { email, token } = await tokenFromLatestEmailTo('new.staff@example.test');
    expect(email).toMatchObject({ subject: 'You have been invited to Agora', sentAt: null });
    expect(email.body).toContain('You have been given a staff account at Agora.');
    const invitation = await server.prisma.passwordResetToken.findFirstOrThrow({ where: { accountId: row.id } });
    expectExpiryIn(invitation.expiresAt.toISOString(), 72 * 60 * 60);

    expect(await run('passwordReset', { token, newPassword: NEW_PASSWORD })).toEqual({ success: true, userErrors: [] });
    const signedIn = await run('logIn', { email: 'new.staff@example.test', password: NEW_PASSWORD });
    expect(signedIn.account).toEqual(payload.account);
    const created = await categoryCreate(signedIn.tokens.accessToken);
    expect(created.data.categoryCreate.userErrors).toEqual([]);
  });

  it.each([
    [
      'a taken email',
      { email: 'TAKEN' },
      { field: ['input', 'email'], code: 'TAKEN', message: 'An account with this email already exists.' },
    ],
    [
      'the role CUSTOMER',
      { role: 'CUSTOMER' },
      { field: ['input', 'role'], code: 'INVALID', message: 'Staff accounts have the role STAFF or ADMIN.' },
    ],
  ])('staffCreate refuses %s and sends no invitation', async (_, overrides, userError) => {
    const taken = await signUp();
    const input = { email: uniqueEmail('staff'), firstName: 'Sam', lastName: 'Stock', role: 'STAFF', ...overrides };
    if (input.email === 'TAKEN') input.email = taken.email.toUpperCase();
    const emails = await server.prisma.outboxEmail.count();

    expect(await run('staffCreate', input, adminToken)).toEqual({ account: null, userErrors: [userError] });
    expect(await server.prisma.outboxEmail.count()).toBe(emails);
  });

  it('accountRoleUpdate applies to the account’s existing access token on its very next request', async () => {
    const { id, tokens } = await staffMember();
    expect((await categoryCreate(tokens.accessToken)).data.categoryCreate.userErrors).toEqual([]);

    expect(await run('accountRoleUpdate', { accountId: id, role: 'CUSTOMER' }, adminToken)).toEqual({
      account: { id, role: 'CUSTOMER' },
      userErrors: [],
    });
    const refused = await categoryCreate(tokens.accessToken);
    expect(refused.data).toBeNull();
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })]);
    expect((await viewerOf(tokens.accessToken)).role).toBe('CUSTOMER');

    await run('accountRoleUpdate', { accountId: id, role: 'ADMIN' }, adminToken);
    expect((await categoryCreate(tokens.accessToken)).data.categoryCreate.userErrors).toEqual([]);
  });

  it('accountDisable ends the sessions at once and refuses sign-in; accountEnable allows it again', async () => {
    const { id, email, tokens, dbId } = await staffMember();

    expect(await run('accountDisable', { accountId: id }, adminToken)).toEqual({
      account: { id, disabled: true },
      userErrors: [],
    });

    await expectRefused(tokens.accessToken);
    expect(await run('tokenRefresh', { refreshToken: tokens.refreshToken })).toEqual(REFRESH_REFUSED);
    expect(await run('logIn', { email, password: PASSWORD })).toEqual(INVALID_CREDENTIALS);
    expect(await liveSessions(dbId)).toBe(0);
    // nor can a disabled account reset its way back in
    const emails = await server.prisma.outboxEmail.count();
    await run('passwordResetRequest', { email });
    expect(await server.prisma.outboxEmail.count()).toBe(emails);

    expect(await run('accountEnable', { accountId: id }, adminToken)).toEqual({
      account: { id, disabled: false },
      userErrors: [],
    });
    const again = await logIn(email, PASSWORD);
    expect((await viewerOf(again.accessToken)).role).toBe('STAFF');
    // the sessions that ended stay ended
    await expectRefused(tokens.accessToken);
  });

  it('an admin cannot change their own role or disable themselves (CONFLICT)', async () => {
    const { id } = await viewerOf(adminToken);

    expect(await run('accountRoleUpdate', { accountId: id, role: 'CUSTOMER' }, adminToken)).toEqual({
      account: null,
      userErrors: [
        {
          field: ['input', 'accountId'],
          code: 'CONFLICT',
          message: 'Admins cannot change the role of their own account; ask another admin.',
        },
      ],
    });
    expect(await run('accountDisable', { accountId: id }, adminToken)).toEqual({
      account: null,
      userErrors: [
        {
          field: ['input', 'accountId'],
          code: 'CONFLICT',
          message: 'Admins cannot disable their own account; ask another admin.',
        },
      ],
    });
    expect(await viewerOf(adminToken)).toMatchObject({ role: 'ADMIN', disabled: false });
  });

  it.each([
    ['accountRoleUpdate', { role: 'STAFF' }],
    ['accountDisable', {}],
    ['accountEnable', {}],
  ] as const)('%s of an unknown account is NOT_FOUND', async (name, extra) => {
    const accountId = toGlobalId('Account', '01900000-0000-7000-8000-000000000000');
    expect(await run(name, { accountId, ...extra }, adminToken)).toEqual({
      account: null,
      userErrors: [{ field: ['input', 'accountId'], code: 'NOT_FOUND', message: 'No account with this ID.' }],
    });
  });

  it('accounts(first:, role:) pages through the accounts with a role, newest first, for staff', async () => {
    for (let i = 0; i < 3; i++) await server.tokenFor('STAFF');
    const staffToken = await server.tokenFor('STAFF');
    const expected = (await server.prisma.account.findMany({ where: { role: 'STAFF' }, orderBy: { id: 'desc' } })).map(
      (account) => ({ id: toGlobalId('Account', account.id), email: account.email, role: 'STAFF' }),
    );
    expect(expected.length).toBeGreaterThanOrEqual(4);
    const QUERY = `query ($after: String) {
      accounts(first: 2, role: STAFF, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } }
        nodes { id email role }
      }
    }`;

    const first = await server.gql(QUERY, {}, staffToken);
    expect(first.errors).toBeUndefined();
    const page = first.data.accounts;
    expect(page).toEqual({
      totalCount: expected.length,
      pageInfo: {
        hasNextPage: true,
        hasPreviousPage: false,
        startCursor: page.edges[0].cursor,
        endCursor: page.edges[1].cursor,
      },
      edges: expected.slice(0, 2).map(({ id }) => ({ cursor: expect.any(String), node: { id } })),
      nodes: expected.slice(0, 2),
    });

    const second = await server.gql(QUERY, { after: page.pageInfo.endCursor }, staffToken);
    expect(second.errors).toBeUndefined();
    expect(second.data.accounts.nodes).toEqual(expected.slice(2, 4));
    expect(second.data.accounts.pageInfo.hasPreviousPage).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the first admin from ADMIN_EMAIL and ADMIN_PASSWORD', () => {
  it('is created on start, exactly one, and signs in', async () => {
    const password = 'a long admin passphrase';
    const other = await startTestServer({ env: { ADMIN_EMAIL: 'Root@Example.TEST', ADMIN_PASSWORD: password } });
    try {
      expect(await other.prisma.account.findMany({ where: { role: 'ADMIN' } })).toEqual([
        expect.objectContaining({ email: 'root@example.test', role: 'ADMIN', disabledAt: null }),
      ]);
      const res = await other.gql(
        `mutation ($input: LogInInput!) { logIn(input: $input) { account { email role } ${USER_ERRORS} } }`,
        { input: { email: 'root@example.test', password } },
      );
      expect(res.data.logIn).toEqual({ account: { email: 'root@example.test', role: 'ADMIN' }, userErrors: [] });
    } finally {
      await other.close();
    }
  });

  it('a weak ADMIN_PASSWORD stops the server from starting', async () => {
    await expect(
      startTestServer({ env: { ADMIN_EMAIL: 'root@example.test', ADMIN_PASSWORD: 'password123' } }),
    ).rejects.toThrow('ADMIN_PASSWORD: This password is too common; choose one that is harder to guess.');
  });
});
