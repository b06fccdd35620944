// Accounts from the attacker's side: each test is one attack, named for what the attacker tries, and shows that it
// fails without leaking anything or changing anything. Attacks that come from a client address of their own send
// from another loopback address (127.x.y.z), so the per-address sign-in throttle sees separate clients.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokens } from '../src/auth/tokens.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { postFrom } from './security/support.js';
import { startTestServer, TEST_SECRET, type GraphQLResponse, type TestServer } from './support/testServer.js';
import { INVALID_CREDENTIALS, REFRESH_REFUSED, RESET_REFUSED } from './support/accountPayloads.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL plumbing

type Input = Record<string, unknown>;
const USER_ERRORS = 'userErrors { field message code }';
const TOKENS = 'tokens { accessToken refreshToken }';
const ADDRESS = 'id firstName lastName company line1 line2 city province postalCode countryCode phone';

const DOCUMENTS = {
  customerSignUp: `mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { account { id } ${TOKENS} ${USER_ERRORS} } }`,
  logIn: `mutation ($input: LogInInput!) { logIn(input: $input) { account { id } ${TOKENS} ${USER_ERRORS} } }`,
  tokenRefresh: `mutation ($input: TokenRefreshInput!) { tokenRefresh(input: $input) { ${TOKENS} ${USER_ERRORS} } }`,
  logOut: `mutation ($input: LogOutInput!) { logOut(input: $input) { endedSessionCount ${USER_ERRORS} } }`,
  passwordResetRequest: `mutation ($input: PasswordResetRequestInput!) { passwordResetRequest(input: $input) { ${USER_ERRORS} } }`,
  passwordReset: `mutation ($input: PasswordResetInput!) { passwordReset(input: $input) { success ${USER_ERRORS} } }`,
  customerAddressCreate: `mutation ($input: CustomerAddressCreateInput!) { customerAddressCreate(input: $input) { address { id } ${USER_ERRORS} } }`,
  customerAddressUpdate: `mutation ($input: CustomerAddressUpdateInput!) { customerAddressUpdate(input: $input) { address { ${ADDRESS} } ${USER_ERRORS} } }`,
  customerAddressDelete: `mutation ($input: CustomerAddressDeleteInput!) { customerAddressDelete(input: $input) { deletedAddressId ${USER_ERRORS} } }`,
  customerAddressSetDefault: `mutation ($input: CustomerAddressSetDefaultInput!) { customerAddressSetDefault(input: $input) { account { id defaultAddress { id } } ${USER_ERRORS} } }`,
  staffCreate: `mutation ($input: StaffCreateInput!) { staffCreate(input: $input) { account { id } ${USER_ERRORS} } }`,
  accountRoleUpdate: `mutation ($input: AccountRoleUpdateInput!) { accountRoleUpdate(input: $input) { account { id role } ${USER_ERRORS} } }`,
  accountDisable: `mutation ($input: AccountDisableInput!) { accountDisable(input: $input) { account { id disabled } ${USER_ERRORS} } }`,
  accountEnable: `mutation ($input: AccountEnableInput!) { accountEnable(input: $input) { account { id disabled } ${USER_ERRORS} } }`,
  categoryCreate: `mutation ($input: CategoryCreateInput!) { categoryCreate(input: $input) { category { id } ${USER_ERRORS} } }`,
} as const;
type MutationName = keyof typeof DOCUMENTS;

const mutate = (name: MutationName, input: Input, token?: string): Promise<GraphQLResponse> =>
  server.gql(DOCUMENTS[name], { input }, token);

/** The payload of a mutation that ran without GraphQL errors (it may still hold user errors). */
async function run(name: MutationName, input: Input, token?: string): Promise<any> {
  const res = await mutate(name, input, token);
  expect(res.errors).toBeUndefined();
  return res.data[name];
}

/** Sends one operation from another client address: a loopback address of its own, as the server sees it. */
async function gqlFrom(localAddress: string, query: string, variables: Input): Promise<GraphQLResponse> {
  const { status, headers, body } = await postFrom(localAddress, server, { query, variables });
  return { status, headers, ...body };
}

/** logIn's payload for a sign-in attempt from `address`. */
async function logInFrom(address: string, email: string, password: string): Promise<any> {
  const res = await gqlFrom(address, DOCUMENTS.logIn, { input: { email, password } });
  expect(res.errors).toBeUndefined();
  return res.data.logIn;
}

const viewer = (token?: string) => server.gql('{ viewer { id email } }', undefined, token);

/** A token whose session ended, or whose account was disabled, gets 401 and no detail. */
async function expectRefused(token: string) {
  const res = await viewer(token);
  expect(res.status).toBe(401);
  expect(res.data).toBeUndefined();
  expect(res.errors).toEqual([
    { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
  ]);
}

async function expectAccepted(token: string, accountId: string) {
  const res = await viewer(token);
  expect(res.status).toBe(200);
  expect(res.errors).toBeUndefined();
  expect(res.data.viewer.id).toBe(accountId);
}

const forbiddenAt = (path: (string | number)[]) => ({
  message: 'You are not allowed to do this.',
  locations: expect.any(Array),
  path,
  extensions: { code: 'FORBIDDEN' },
});

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

let serial = 0;
const uniqueEmail = (name = 'customer') => `${name}-${++serial}@example.test`;
const PASSWORD = 'correct horse battery staple';

interface Customer {
  email: string;
  /** Global ID. */
  id: string;
  dbId: string;
  accessToken: string;
  refreshToken: string;
}

async function signUp(names: { firstName: string; lastName: string } = { firstName: 'Ada', lastName: 'Lovelace' }) {
  const email = uniqueEmail();
  const payload = await run('customerSignUp', { email, password: PASSWORD, ...names });
  expect(payload.userErrors).toEqual([]);
  const { id: dbId } = await server.prisma.account.findUniqueOrThrow({ where: { email } });
  return { email, id: payload.account.id, dbId, ...payload.tokens } as Customer;
}

/** A new session of the account (from the default client address). */
async function logIn(email: string): Promise<{ accessToken: string; refreshToken: string }> {
  const payload = await run('logIn', { email, password: PASSWORD });
  expect(payload.userErrors).toEqual([]);
  return payload.tokens;
}

/** What an attack on accounts could change: every account's role and state, addresses, emails queued. */
const accountsState = async () => ({
  accounts: await server.prisma.account.findMany({
    select: { id: true, email: true, role: true, disabledAt: true, defaultAddressId: true, passwordHash: true },
    orderBy: { id: 'asc' },
  }),
  addresses: await server.prisma.address.findMany({ orderBy: { id: 'asc' } }),
  outbox: await server.prisma.outboxEmail.count(),
  categories: await server.prisma.category.count(),
});

async function resetTokenFor(email: string): Promise<string> {
  await run('passwordResetRequest', { email });
  const sent = await server.prisma.outboxEmail.findFirstOrThrow({
    where: { to: email },
    orderBy: { createdAt: 'desc' },
  });
  return /^([\w-]{43})$/m.exec(sent.body)![1]!;
}

// ---------------------------------------------------------------------------------------------------------------

describe("customer A reading customer B's account", () => {
  // B's details are distinctive, so that any of them in a response body would be a leak.
  const SECRETS = ['Beatrix', 'Secretsworth', 'Hidden Lane 7', 'Narnia City', '+4915111111111', 'Classified Ltd'];
  let a: Customer;
  let b: Customer;
  let ids: { aAccount: string; aAddress: string; bAccount: string; bAddress: string };

  beforeAll(async () => {
    a = await signUp();
    b = await signUp({ firstName: 'Beatrix', lastName: 'Secretsworth' });
    const address = async (token: string, fields: Input) =>
      (await run('customerAddressCreate', { address: fields, setAsDefault: true }, token)).address.id as string;
    ids = {
      aAccount: a.id,
      bAccount: b.id,
      aAddress: await address(a.accessToken, {
        firstName: 'Ada',
        lastName: 'Lovelace',
        line1: 'Open Street 1',
        city: 'Berlin',
        postalCode: '10117',
        countryCode: 'DE',
      }),
      bAddress: await address(b.accessToken, {
        firstName: 'Beatrix',
        lastName: 'Secretsworth',
        company: 'Classified Ltd',
        line1: 'Hidden Lane 7',
        city: 'Narnia City',
        postalCode: '99999',
        countryCode: 'GB',
        phone: '+4915111111111',
      }),
    };
  });

  const EVERYTHING = `id
    ... on Account { email firstName lastName role addresses { ${ADDRESS} } defaultAddress { ${ADDRESS} } }
    ... on Address { ${ADDRESS} }`;

  const expectNoSecrets = (res: GraphQLResponse) => {
    const body = JSON.stringify(res);
    for (const secret of SECRETS) expect(body).not.toContain(secret);
  };

  it('staff can read B by ID (the control: the IDs below are real)', async () => {
    const res = await server.gql(
      `query ($ids: [ID!]!) { nodes(ids: $ids) { ${EVERYTHING} } }`,
      { ids: [ids.bAccount, ids.bAddress] },
      await server.tokenFor('STAFF'),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.nodes).toEqual([
      expect.objectContaining({ id: ids.bAccount, firstName: 'Beatrix', addresses: [expect.any(Object)] }),
      expect.objectContaining({ id: ids.bAddress, line1: 'Hidden Lane 7' }),
    ]);
  });

  it.each(['bAccount', 'bAddress'] as const)(
    'node(id:) with %s: null and FORBIDDEN, no B data in the body',
    async (key) => {
      const res = await server.gql(
        `query ($id: ID!) { node(id: $id) { ${EVERYTHING} } }`,
        { id: ids[key] },
        a.accessToken,
      );
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ node: null });
      expect(res.errors).toEqual([forbiddenAt(['node'])]);
      expectNoSecrets(res);
    },
  );

  it("nodes(ids:) with B's IDs among A's own: B's items null with FORBIDDEN at their index, A's intact", async () => {
    const res = await server.gql(
      `query ($ids: [ID!]!) { nodes(ids: $ids) { ${EVERYTHING} } }`,
      { ids: [ids.aAccount, ids.bAccount, ids.bAddress, ids.aAddress] },
      a.accessToken,
    );
    expect(res.data.nodes).toEqual([
      expect.objectContaining({ id: ids.aAccount, email: a.email }),
      null,
      null,
      expect.objectContaining({ id: ids.aAddress, line1: 'Open Street 1' }),
    ]);
    expect(res.errors).toHaveLength(2);
    expect(res.errors).toEqual(expect.arrayContaining([forbiddenAt(['nodes', 1]), forbiddenAt(['nodes', 2])]));
    expectNoSecrets(res);
  });

  it('accounts as a customer: FORBIDDEN, no account listed', async () => {
    const res = await server.gql(
      '{ accounts(first: 100) { totalCount nodes { id email firstName lastName } } }',
      undefined,
      a.accessToken,
    );
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([forbiddenAt(['accounts'])]);
    expectNoSecrets(res);
  });

  it.each(['bAccount', 'bAddress'] as const)('anonymous node(id:) with %s: null and UNAUTHENTICATED', async (key) => {
    const res = await server.gql(`query ($id: ID!) { node(id: $id) { ${EVERYTHING} } }`, { id: ids[key] });
    expect(res.data).toEqual({ node: null });
    expect(res.errors).toEqual([
      {
        message: 'You must be signed in to do this.',
        locations: expect.any(Array),
        path: ['node'],
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ]);
    expectNoSecrets(res);
  });

  describe("changing B's address", () => {
    const attacks = [
      {
        name: 'customerAddressUpdate' as const,
        input: (id: string) => ({
          id,
          address: {
            firstName: 'Mallory',
            lastName: 'Thief',
            line1: 'Drop Box 1',
            city: 'Elsewhere',
            postalCode: '00000',
            countryCode: 'US',
          },
        }),
      },
      { name: 'customerAddressDelete' as const, input: (id: string) => ({ id }) },
      { name: 'customerAddressSetDefault' as const, input: (id: string) => ({ id }) },
    ];
    const attackers = [
      { who: 'customer A', token: () => a.accessToken },
      { who: 'a member of staff (these are customer mutations)', token: () => server.tokenFor('STAFF') },
    ];

    it.each(attacks.flatMap((attack) => attackers.map((attacker) => ({ ...attack, ...attacker }))))(
      '$name by $who: FORBIDDEN, payload null, the address unchanged',
      async ({ name, input, token }) => {
        const attackerToken = await token();
        const before = await accountsState();
        const res = await mutate(name, input(ids.bAddress), attackerToken);
        expect(res.data).toBeNull();
        expect(res.errors).toEqual([forbiddenAt([name])]);
        expect(await accountsState()).toEqual(before);
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('calling staff and admin mutations without the role', () => {
  let attacker: { customer: Customer; staffToken: string; staffId: string; victim: Customer; disabled: Customer };

  beforeAll(async () => {
    const customer = await signUp();
    const victim = await signUp();
    const disabled = await signUp();
    await server.prisma.account.update({ where: { id: disabled.dbId }, data: { disabledAt: new Date() } });
    const staffToken = await server.tokenFor('STAFF');
    const staffId = (await viewer(staffToken)).data.viewer.id;
    attacker = { customer, staffToken, staffId, victim, disabled };
  });

  const MUTATIONS: { name: MutationName; goal: string; input: (self: string) => Input }[] = [
    {
      name: 'staffCreate',
      goal: 'an admin account of their own',
      input: () => ({ email: uniqueEmail('mallory'), firstName: 'Mallory', lastName: 'M', role: 'ADMIN' }),
    },
    {
      name: 'accountRoleUpdate',
      goal: 'promoting themselves to ADMIN',
      input: (self) => ({ accountId: self, role: 'ADMIN' }),
    },
    { name: 'accountDisable', goal: 'disabling another account', input: () => ({ accountId: attacker.victim.id }) },
    {
      name: 'accountEnable',
      goal: 'enabling a disabled account',
      input: () => ({ accountId: attacker.disabled.id }),
    },
  ];

  const cases = [
    ...[
      ...MUTATIONS,
      { name: 'categoryCreate' as const, goal: 'a catalog change', input: () => ({ name: 'Defaced' }) },
    ].map((mutation) => ({ ...mutation, role: 'a customer' })),
    ...MUTATIONS.map((mutation) => ({ ...mutation, role: 'a member of staff' })),
  ];

  it.each(cases)('$role calling $name ($goal): FORBIDDEN, nothing changed', async ({ name, input, role }) => {
    const [token, self] =
      role === 'a customer'
        ? [attacker.customer.accessToken, attacker.customer.id]
        : [attacker.staffToken, attacker.staffId];
    const before = await accountsState();

    const res = await mutate(name, input(self), token);

    expect(res.data).toBeNull();
    expect(res.errors).toEqual([forbiddenAt([name])]);
    expect(await accountsState()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('stolen and ended sessions', () => {
  it('refresh token reuse: using a rotated refresh token again ends the whole session', async () => {
    const { email, id } = await signUp();
    const stolen = await logIn(email);
    const rotated = (await run('tokenRefresh', { refreshToken: stolen.refreshToken })).tokens;
    await expectAccepted(rotated.accessToken, id);

    expect(await run('tokenRefresh', { refreshToken: stolen.refreshToken })).toEqual(REFRESH_REFUSED);

    expect(await run('tokenRefresh', { refreshToken: rotated.refreshToken })).toEqual(REFRESH_REFUSED);
    await expectRefused(rotated.accessToken);
    await expectRefused(stolen.accessToken);
  });

  it('refresh token reuse through logOut: refused, and the session ends all the same', async () => {
    const { email } = await signUp();
    const stolen = await logIn(email);
    const rotated = (await run('tokenRefresh', { refreshToken: stolen.refreshToken })).tokens;

    expect((await run('logOut', { refreshToken: stolen.refreshToken })).userErrors).toEqual([
      { field: ['input', 'refreshToken'], code: 'INVALID_TOKEN', message: 'This session has already ended.' },
    ]);
    await expectRefused(rotated.accessToken);
  });

  it('two concurrent tokenRefresh calls with the same refresh token: exactly one succeeds, and the second use ends the session', async () => {
    const { email } = await signUp();
    const { refreshToken } = await logIn(email);

    const payloads = await Promise.all([run('tokenRefresh', { refreshToken }), run('tokenRefresh', { refreshToken })]);

    const winners = payloads.filter((payload) => payload.tokens !== null);
    expect(winners).toHaveLength(1);
    expect(payloads.filter((payload) => payload.tokens === null)).toEqual([REFRESH_REFUSED]);
    // a second use is a reuse however close together they came: the winner's tokens die with the session
    expect(await run('tokenRefresh', { refreshToken: winners[0].tokens.refreshToken })).toEqual(REFRESH_REFUSED);
  });

  it('an access token still within its lifetime is refused once logOut ended its session', async () => {
    const { email, id } = await signUp();
    const tokens = await logIn(email);
    await expectAccepted(tokens.accessToken, id);

    await run('logOut', { refreshToken: tokens.refreshToken });

    await expectRefused(tokens.accessToken);
  });

  it("a disabled staff account's valid token is refused on its very next request", async () => {
    const staff = await server.sessionFor('STAFF');
    const token = await server.tokenFor('STAFF', { accountId: staff.accountId });
    const created = await mutate('categoryCreate', { name: 'Before' }, token);
    expect(created.data.categoryCreate.userErrors).toEqual([]);

    const res = await mutate(
      'accountDisable',
      { accountId: toGlobalId('Account', staff.accountId) },
      await server.tokenFor('ADMIN'),
    );
    expect(res.data.accountDisable.userErrors).toEqual([]);

    const refused = await mutate('categoryCreate', { name: 'After' }, token);
    expect(refused.status).toBe(401);
    expect(refused.errors).toEqual([
      { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
    expect(await server.prisma.category.count({ where: { name: 'After' } })).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('guessing passwords', () => {
  /** The lockout answer; which field it names is the subject of a test of its own. */
  const TOO_MANY = {
    account: null,
    tokens: null,
    userErrors: [
      {
        field: expect.toSatisfy(() => true),
        code: 'TOO_MANY_ATTEMPTS',
        message: expect.stringMatching(/^Too many failed sign-in attempts\. Try again in \d+ seconds\.$/),
      },
    ],
  };
  const secondsToWait = (payload: any) => Number(/in (\d+) seconds/.exec(payload.userErrors[0].message)![1]);

  /** Wrong passwords for `email` from `address` until the account is locked; how many attempts it took. */
  async function lockOut(email: string, address: string): Promise<number> {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const payload = await logInFrom(address, email, `wrong guess ${attempt}`);
      if (payload.userErrors[0].code === 'TOO_MANY_ATTEMPTS') return attempt;
      expect(payload).toEqual(INVALID_CREDENTIALS);
    }
    throw new Error(`${email} was not locked after 10 wrong passwords`);
  }

  it('one account: after 5 wrong passwords even the right one is refused with TOO_MANY_ATTEMPTS and the seconds to wait', async () => {
    const { email } = await signUp();
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await logInFrom('127.0.0.10', email, `wrong guess ${attempt}`)).toEqual(INVALID_CREDENTIALS);
    }

    const sixth = await logInFrom('127.0.0.10', email, PASSWORD);

    expect(sixth).toEqual(TOO_MANY);
    expect(secondsToWait(sixth)).toBeGreaterThan(0);
    expect(secondsToWait(sixth)).toBeLessThanOrEqual(30);
  });

  it('a locked account stays locked from every address, and does not lock out other accounts', async () => {
    const victim = await signUp();
    const bystander = await signUp();
    await lockOut(victim.email, '127.0.0.11');

    expect(await logInFrom('127.0.0.12', victim.email, PASSWORD)).toEqual(TOO_MANY);
    expect((await logInFrom('127.0.0.12', bystander.email, PASSWORD)).userErrors).toEqual([]);
    expect((await logInFrom('127.0.0.11', bystander.email, PASSWORD)).userErrors).toEqual([]);
  });

  it('the lockout names no input field: field null, like INVALID_CREDENTIALS', async () => {
    const { email } = await signUp();
    await lockOut(email, '127.0.0.13');
    const payload = await logInFrom('127.0.0.13', email, PASSWORD);
    expect(payload.userErrors).toEqual([{ field: null, code: 'TOO_MANY_ATTEMPTS', message: expect.any(String) }]);
  });

  const SPRAYER = '127.0.0.20';

  it('password spraying from one address: 50 failures over many emails, then TOO_MANY_ATTEMPTS for any email', async () => {
    const { email } = await signUp();
    for (let batch = 0; batch < 5; batch++) {
      const payloads = await Promise.all(
        Array.from({ length: 10 }, () => logInFrom(SPRAYER, uniqueEmail('sprayed'), 'Summer2024!')),
      );
      expect(payloads).toEqual(Array(10).fill(INVALID_CREDENTIALS));
    }

    expect(await logInFrom(SPRAYER, uniqueEmail('sprayed'), 'Summer2024!')).toEqual(TOO_MANY);
    expect(await logInFrom(SPRAYER, email, PASSWORD)).toEqual(TOO_MANY);
  });

  it('a locked address does not lock out other addresses', async () => {
    const { email } = await signUp();
    // locked by the spraying above; when run alone, spray until it is
    for (let attempt = 1; ; attempt++) {
      const payload = await logInFrom(SPRAYER, uniqueEmail('sprayed'), 'Summer2024!');
      if (payload.userErrors[0].code === 'TOO_MANY_ATTEMPTS') break;
      expect(attempt).toBeLessThan(60);
    }
    expect(await logInFrom(SPRAYER, email, PASSWORD)).toEqual(TOO_MANY);
    expect((await logInFrom('127.0.0.21', email, PASSWORD)).userErrors).toEqual([]);
  });

  it('timing: an unknown email and a known email with a wrong password take the same time', async () => {
    const WARM_UP = 5;
    const SAMPLES = 30;
    const ATTEMPTS_PER_ACCOUNT = 4; // below the per-account limit, so that no attempt is throttled
    const known = await Promise.all(
      Array.from({ length: Math.ceil((WARM_UP + SAMPLES) / ATTEMPTS_PER_ACCOUNT) }, () => signUp()),
    );
    const timed = async (address: string, email: string) => {
      const start = performance.now();
      const payload = await logInFrom(address, email, 'a wrong password');
      const elapsed = performance.now() - start;
      expect(payload).toEqual(INVALID_CREDENTIALS);
      return elapsed;
    };

    const unknownTimes: number[] = [];
    const knownTimes: number[] = [];
    for (let i = 0; i < WARM_UP + SAMPLES; i++) {
      // each pair from an address of its own, in alternating order
      const address = `127.0.1.${i + 1}`;
      const measureUnknown = () => timed(address, uniqueEmail('unknown'));
      const measureKnown = () => timed(address, known[Math.floor(i / ATTEMPTS_PER_ACCOUNT)]!.email);
      const [unknownTime, knownTime] =
        i % 2 === 0
          ? [await measureUnknown(), await measureKnown()]
          : await (async () => {
              const knownFirst = await measureKnown();
              return [await measureUnknown(), knownFirst];
            })();
      if (i >= WARM_UP) {
        unknownTimes.push(unknownTime);
        knownTimes.push(knownTime);
      }
    }

    const median = (values: number[]) => {
      const sorted = [...values].sort((x, y) => x - y);
      return (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
    };
    const [unknownMedian, knownMedian] = [median(unknownTimes), median(knownTimes)];
    const ratio = Math.max(unknownMedian, knownMedian) / Math.min(unknownMedian, knownMedian);
    console.log(
      `logIn timing over ${SAMPLES} samples each: unknown email median ${unknownMedian.toFixed(1)} ms, ` +
        `known email with wrong password median ${knownMedian.toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeLessThan(1.5);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('access tokens and key rotation', () => {
  const CURRENT_SECRET = 'the-current-secret-after-rotation-0123456789';
  let rotated: TestServer;
  let session: { accountId: string; sessionId: string };

  beforeAll(async () => {
    rotated = await startTestServer({
      env: { JWT_KEY_ID: 'k2', JWT_SECRET: CURRENT_SECRET, JWT_PREVIOUS_KEYS: `k1:${TEST_SECRET}` },
    });
    session = await rotated.sessionFor('STAFF');
  });
  afterAll(() => rotated?.close());

  const signedWith = async (kid: string, secret: string) =>
    (
      await accessTokens({
        JWT_KEY_ID: kid,
        JWT_SECRET: secret,
        JWT_PREVIOUS_KEYS: [],
        JWT_ISSUER: 'agora',
        JWT_AUDIENCE: 'agora-api',
        ACCESS_TOKEN_TTL_SECONDS: 900,
      }).sign({ ...session, role: 'STAFF' })
    ).token;

  const viewerOn = (token: string) => rotated.gql('{ viewer { id } }', undefined, token);

  it('the server signs new tokens with the current key k2', async () => {
    const token = await rotated.tokenFor('STAFF', { accountId: session.accountId });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid: 'k2' });
    expect((await viewerOn(token)).data).toEqual({ viewer: { id: toGlobalId('Account', session.accountId) } });
  });

  it('a token signed with the previous key k1 is still accepted', async () => {
    const res = await viewerOn(await signedWith('k1', TEST_SECRET));
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ viewer: { id: toGlobalId('Account', session.accountId) } });
  });

  it.each([
    ['an unknown key id, with the previous secret', 'k3', TEST_SECRET],
    ['an unknown key id, with the current secret', 'k3', CURRENT_SECRET],
    ['the previous key id with the current secret', 'k1', CURRENT_SECRET],
    ['the current key id with the previous secret', 'k2', TEST_SECRET],
  ])('a token under %s is refused (401)', async (_, kid, secret) => {
    const res = await viewerOn(await signedWith(kid, secret));
    expect(res.status).toBe(401);
    expect(res.errors).toEqual([
      { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('password reset tokens', () => {
  it("a reset token from A's email works once; the second use is INVALID_TOKEN", async () => {
    const { email } = await signUp();
    const token = await resetTokenFor(email);

    expect(await run('passwordReset', { token, newPassword: 'first-new-passphrase' })).toEqual({
      success: true,
      userErrors: [],
    });
    expect(await run('passwordReset', { token, newPassword: 'attacker-passphrase' })).toEqual(RESET_REFUSED);
    expect(await run('logIn', { email, password: 'attacker-passphrase' })).toEqual(INVALID_CREDENTIALS);
  });

  it('a random token is INVALID_TOKEN', async () => {
    const before = await accountsState();
    for (const token of ['A'.repeat(43), 'not-a-token', '']) {
      expect(await run('passwordReset', { token, newPassword: 'attacker-passphrase' })).toEqual(RESET_REFUSED);
    }
    expect(await accountsState()).toEqual(before);
  });

  it('a reset for an unknown email leaves no email in the outbox', async () => {
    const email = uniqueEmail('nobody');
    const before = await server.prisma.outboxEmail.count();
    expect(await run('passwordResetRequest', { email })).toEqual({ userErrors: [] });
    expect(await server.prisma.outboxEmail.count()).toBe(before);
    expect(await server.prisma.outboxEmail.count({ where: { to: email } })).toBe(0);
  });

  it('a reset token issued before the account was disabled no longer works', async () => {
    const { email, dbId } = await signUp();
    const token = await resetTokenFor(email);
    await server.prisma.account.update({ where: { id: dbId }, data: { disabledAt: new Date() } });
    expect(await run('passwordReset', { token, newPassword: 'attacker-passphrase' })).toEqual(RESET_REFUSED);
  });

  it('a leaked database is no source of tokens: the stored digests are not accepted as tokens', async () => {
    const { email, dbId, refreshToken } = await signUp();
    const resetToken = await resetTokenFor(email);
    const [stored] = await server.prisma.refreshToken.findMany({ where: { session: { accountId: dbId } } });
    const [reset] = await server.prisma.passwordResetToken.findMany({ where: { accountId: dbId } });
    expect(stored!.tokenHash).not.toBe(refreshToken);
    expect(reset!.tokenHash).not.toBe(resetToken);

    expect(await run('tokenRefresh', { refreshToken: stored!.tokenHash })).toEqual(REFRESH_REFUSED);
    expect(await run('passwordReset', { token: reset!.tokenHash, newPassword: 'attacker-passphrase' })).toEqual(
      RESET_REFUSED,
    );
  });
});
