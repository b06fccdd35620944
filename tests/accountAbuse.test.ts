// Abuse of the public account and lookup mutations, one client address at a time (loopback addresses 127.x.y.z):
// signing up in bulk, guessing passwords in parallel, asking for reset emails to learn who has an account, guessing
// order numbers and emails, and emails big enough to fill Redis. Each throttle answers THROTTLED with
// retryAfterSeconds and 429, or (a locked sign-in) TOO_MANY_ATTEMPTS, before any expensive work is done: a
// throttled request sends no SQL at all.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postFrom, withoutQueries, type RawResponse } from './security/support.js';
import { INVALID_CREDENTIALS } from './support/accountPayloads.js';
import { paidOrderOf } from './support/orders.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
const REDIS_KEY_PREFIX = `agora-test-abuse-${randomUUID()}:`;

beforeAll(async () => {
  server = await startTestServer({
    countStatements: true,
    env: {
      REDIS_KEY_PREFIX,
      SIGN_UP_LIMIT: '3/3600',
      PASSWORD_RESET_LIMIT_PER_EMAIL: '2/3600',
      PASSWORD_RESET_LIMIT_PER_ADDRESS: '4/3600',
      ORDER_LOOKUP_LIMIT_PER_ADDRESS: '40/600',
      ORDER_LOOKUP_LIMIT_PER_ORDER: '3/3600',
    },
  });
});
afterAll(() => server?.close());

const USER_ERRORS = 'userErrors { field message code }';
const SIGN_UP = `mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { account { id } ${USER_ERRORS} } }`;
const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { account { id } tokens { accessToken } ${USER_ERRORS} } }`;
const RESET_REQUEST = `mutation ($input: PasswordResetRequestInput!) { passwordResetRequest(input: $input) { ${USER_ERRORS} } }`;
const BY_NUMBER = 'query ($number: Int!, $email: String!) { orderByNumber(number: $number, email: $email) { number } }';
const PASSWORD = 'correct horse battery staple';

let serial = 0;
const uniqueEmail = (name = 'abuse') => `${name}-${++serial}-${Date.now()}@example.test`;
let addresses = 0;
/** A loopback address no other test uses. */
const newAddress = () => `127.0.3.${++addresses}`;

const send = (address: string, query: string, variables: Record<string, unknown>) =>
  postFrom(address, server, { query, variables });

const signUp = (address: string, email = uniqueEmail()) =>
  send(address, SIGN_UP, { input: { email, password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace' } });

function expectThrottled(res: RawResponse) {
  expect(res.status, res.text).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(res.body.errors).toEqual([
    expect.objectContaining({
      message: expect.stringMatching(new RegExp(` Retry in ${retryAfter} s\\.$`)),
      extensions: { code: 'THROTTLED', retryAfterSeconds: retryAfter },
    }),
  ]);
  return retryAfter;
}

describe('signing up in bulk from one address', () => {
  it('is throttled after SIGN_UP_LIMIT sign-ups, before any password is hashed; other addresses still sign up', async () => {
    const address = newAddress();
    for (let i = 0; i < 3; i++) {
      const res = await signUp(address);
      expect(res.body.data.customerSignUp.userErrors, res.text).toEqual([]);
    }
    const accounts = await server.prisma.account.count();
    const refused = await withoutQueries(server, () => signUp(address));
    expectThrottled(refused);
    expect(refused.body.data).toBeNull();
    expect(await server.prisma.account.count()).toBe(accounts);

    expect((await signUp(newAddress())).body.data.customerSignUp.userErrors).toEqual([]);
  });

  it('in parallel: 10 sign-ups at once create at most SIGN_UP_LIMIT accounts', async () => {
    const address = newAddress();
    const answers = await Promise.all(Array.from({ length: 10 }, () => signUp(address)));
    expect(answers.filter((res) => res.status === 200)).toHaveLength(3);
    answers.filter((res) => res.status !== 200).forEach(expectThrottled);
  });
});

describe('guessing one password in parallel', () => {
  it('20 wrong guesses at once: at most 5 reach the password check, the rest are refused unchecked', async () => {
    const address = newAddress();
    const email = uniqueEmail('victim');
    expect((await signUp(newAddress(), email)).body.data.customerSignUp.userErrors).toEqual([]);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(address, LOG_IN, { input: { email, password: `wrong guess ${i}` } })),
    );
    const payloads = answers.map((res) => res.body.data.logIn);
    const checked = payloads.filter((payload) => payload.userErrors[0].code === 'INVALID_CREDENTIALS');
    const refused = payloads.filter((payload) => payload.userErrors[0].code === 'TOO_MANY_ATTEMPTS');
    expect(checked.length + refused.length).toBe(20);
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(checked).toEqual(Array(checked.length).fill(INVALID_CREDENTIALS));
    // even the right password waits out the lockout
    const right = await withoutQueries(server, () =>
      send(newAddress(), LOG_IN, { input: { email, password: PASSWORD } }),
    );
    expect(right.body.data.logIn.userErrors[0].code).toBe('TOO_MANY_ATTEMPTS');
  });

  it('a correct sign-in does not use up the address: 60 in a row from one address all succeed', async () => {
    const address = newAddress();
    const email = uniqueEmail('regular');
    expect((await signUp(newAddress(), email)).body.data.customerSignUp.userErrors).toEqual([]);
    for (let i = 0; i < 60; i++) {
      const res = await send(address, LOG_IN, { input: { email, password: PASSWORD } });
      expect(res.body.data.logIn.userErrors, `sign-in ${i + 1}`).toEqual([]);
    }
  });
});

describe('asking for password reset emails', () => {
  const request = (address: string, email: string) => send(address, RESET_REQUEST, { input: { email } });

  it('is throttled per email, known or not, from any address', async () => {
    for (const email of [uniqueEmail('nobody')]) {
      for (let i = 0; i < 2; i++) {
        expect((await request(newAddress(), email)).body.data.passwordResetRequest).toEqual({ userErrors: [] });
      }
      expectThrottled(await request(newAddress(), email));
    }
  });

  it('is throttled per address, over any emails', async () => {
    const address = newAddress();
    for (let i = 0; i < 4; i++) {
      expect((await request(address, uniqueEmail('nobody'))).body.data.passwordResetRequest).toEqual({
        userErrors: [],
      });
    }
    expectThrottled(await withoutQueries(server, () => request(address, uniqueEmail('nobody'))));
  });

  it('does the same database work for a known and an unknown email', async () => {
    const known = uniqueEmail('known');
    expect((await signUp(newAddress(), known)).body.data.customerSignUp.userErrors).toEqual([]);
    const statementsFor = async (email: string) => {
      server.statements!.reset();
      expect((await request(newAddress(), email)).body.data.passwordResetRequest).toEqual({ userErrors: [] });
      return server.statements!.statements();
    };
    const forKnown = await statementsFor(known);
    const forUnknown = await statementsFor(uniqueEmail('unknown'));
    expect(forUnknown).toEqual(forKnown);
    expect(await server.prisma.outboxEmail.count({ where: { to: known } })).toBe(1);
  });

  it('takes the same time for a known and an unknown email (medians within a factor of 1.5)', async () => {
    const SAMPLES = 25;
    const known = await Promise.all(
      Array.from({ length: SAMPLES + 3 }, async () => {
        const email = uniqueEmail('timed');
        expect((await signUp(newAddress(), email)).body.data.customerSignUp.userErrors).toEqual([]);
        return email;
      }),
    );
    const timed = async (email: string) => {
      const start = performance.now();
      const res = await request(newAddress(), email);
      const elapsed = performance.now() - start;
      expect(res.body.data.passwordResetRequest).toEqual({ userErrors: [] });
      return elapsed;
    };
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < known.length; i++) {
      // alternating order; the first pairs warm up
      const pair =
        i % 2 === 0
          ? [await timed(known[i]!), await timed(uniqueEmail('unknown'))]
          : [await timed(uniqueEmail('unknown')), await timed(known[i]!)].reverse();
      if (i < 3) continue;
      knownTimes.push(pair[0]!);
      unknownTimes.push(pair[1]!);
    }
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1]!;
    const [knownMedian, unknownMedian] = [median(knownTimes), median(unknownTimes)];
    const ratio = Math.max(knownMedian, unknownMedian) / Math.min(knownMedian, unknownMedian);
    console.log(
      `passwordResetRequest medians: known ${knownMedian.toFixed(1)} ms, unknown ${unknownMedian.toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeLessThan(1.5);
  });
});

describe('guessing orders by number and email', () => {
  let number: number;

  beforeAll(async () => {
    const { accountId } = await server.sessionFor('CUSTOMER');
    await paidOrderOf(server, accountId);
    const latest = await server.prisma.order.findFirstOrThrow({ where: { accountId } });
    number = latest.number!;
  });

  const track = (address: string, orderNumber: number, email: string) =>
    send(address, BY_NUMBER, { number: orderNumber, email });

  it('a wrong guess costs more than a right answer: one address gets few misses before THROTTLED', async () => {
    const address = newAddress();
    const answers: RawResponse[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await track(address, 900_000 + i, 'buyer@example.test');
      answers.push(res);
      if (res.status !== 200) break;
    }
    // 40 points, a miss costs 10
    expect(answers.filter((res) => res.status === 200)).toHaveLength(4);
    expectThrottled(answers.at(-1)!);

    // the owner, tracking from elsewhere, is served many times over
    const owner = newAddress();
    for (let i = 0; i < 20; i++) {
      const res = await track(owner, number, 'buyer@example.test');
      expect(res.body.data, res.text).toEqual({ orderByNumber: { number } });
    }
  });

  it('one order number takes few wrong emails, whatever addresses they come from', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await track(newAddress(), number, `guess-${i}@example.test`);
      expect(res.body.data).toEqual({ orderByNumber: null });
    }
    expectThrottled(await withoutQueries(server, () => track(newAddress(), number, 'another-guess@example.test')));
  });
});

describe('emails too long to be addresses (RFC 5321: 254 characters)', () => {
  const huge = `${'a'.repeat(300_000)}@example.test`;

  it('logIn, customerSignUp and passwordResetRequest refuse them as INVALID on the email, doing no work', async () => {
    const address = newAddress();
    const field = ['input', 'email'];
    const logIn = await send(address, LOG_IN, { input: { email: huge, password: PASSWORD } });
    expect(logIn.body.data.logIn.userErrors).toEqual([{ field, code: 'INVALID', message: expect.any(String) }]);
    const signedUp = await signUp(address, huge);
    expect(signedUp.body.data.customerSignUp.userErrors).toEqual([
      { field, code: 'INVALID', message: expect.any(String) },
    ]);
    const reset = await send(address, RESET_REQUEST, { input: { email: huge } });
    expect(reset.body.data.passwordResetRequest.userErrors).toEqual([
      { field, code: 'INVALID', message: expect.any(String) },
    ]);
  });

  it('orderByNumber refuses them with BAD_USER_INPUT', async () => {
    const res = await send(newAddress(), BY_NUMBER, { number: 1001, email: huge });
    expect(res.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
  });

  it.runIf(process.env.REDIS_URL)('leave no key in Redis longer than a digest', async () => {
    await send(newAddress(), LOG_IN, { input: { email: `${'b'.repeat(250)}@x.test`, password: PASSWORD } });
    const redis = server.runtime.redis!;
    const keys = await redis.keys(`${REDIS_KEY_PREFIX}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(Math.max(...keys.map((key) => key.length))).toBeLessThan(160);
  });
});
