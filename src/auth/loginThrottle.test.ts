// The lockout rules, against process memory and, when REDIS_URL is set, against Redis.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LoginThrottle, type ThrottleKeys } from './loginThrottle.js';

const redisUrl = process.env.REDIS_URL;
const redisClients: Redis[] = [];
const redisPrefixes: string[] = [];

afterAll(async () => {
  for (const redis of redisClients) {
    for (const prefix of redisPrefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    }
    await redis.quit();
  }
});

const stores: { store: string; connect: () => Redis | null }[] = [
  { store: 'memory', connect: () => null },
  ...(redisUrl
    ? [
        {
          store: 'Redis',
          connect: () => {
            if (!redisClients.length) redisClients.push(new Redis(redisUrl));
            return redisClients[0]!;
          },
        },
      ]
    : []),
];

function newPrefix(): string {
  const prefix = `test:${randomUUID()}:`;
  redisPrefixes.push(prefix);
  return prefix;
}

/** A throttle of its own for each test unless given a prefix: 3 failures per account, 10 per client address. */
const newThrottle = (connect: () => Redis | null, prefix = newPrefix()) =>
  new LoginThrottle(connect(), prefix, { perAccount: 3, perAddress: 10 });

const keys = (email: string, clientAddress = '192.0.2.1'): ThrottleKeys => ({ email, clientAddress });

async function fail(throttle: LoginThrottle, attempt: ThrottleKeys, times = 1) {
  for (let i = 0; i < times; i++) {
    const begun = await throttle.begin(attempt);
    if (typeof begun === 'number') throw new Error(`attempt ${i + 1} was refused`);
    await begun.failed();
  }
}

/** The seconds an attempt now has to wait; an attempt let through (0) is a successful sign-in. */
async function retryAfter(throttle: LoginThrottle, attempt: ThrottleKeys): Promise<number> {
  const begun = await throttle.begin(attempt);
  if (typeof begun === 'number') return begun;
  await begun.succeeded();
  return 0;
}

/** Seconds, as retryAfter rounds them up: the lockout has just begun, give or take a second of test time. */
const aboutSeconds = (seconds: number): unknown =>
  expect.toSatisfy((wait: number) => wait >= seconds - 1 && wait <= seconds, `about ${seconds} s`);

describe.each(stores)('login throttle ($store)', ({ connect }) => {
  it('lets a first attempt through', async () => {
    const throttle = newThrottle(connect);
    expect(await retryAfter(throttle, keys('ann@example.com'))).toBe(0);
  });

  it('lets attempts through while failures stay under the limit', async () => {
    const throttle = newThrottle(connect);
    await fail(throttle, keys('ann@example.com'), 2);
    expect(await retryAfter(throttle, keys('ann@example.com'))).toBe(0);
  });

  it('locks an account for 30 seconds after 3 failures', async () => {
    const throttle = newThrottle(connect);
    await fail(throttle, keys('ann@example.com'), 3);
    expect(await retryAfter(throttle, keys('ann@example.com'))).toEqual(aboutSeconds(30));
    // from any address; other accounts from the same address are not affected
    expect(await retryAfter(throttle, keys('ann@example.com', '198.51.100.7'))).toEqual(aboutSeconds(30));
    expect(await retryAfter(throttle, keys('bob@example.com'))).toBe(0);
  });

  it('forgets the failures of an account after a successful sign-in', async () => {
    const throttle = newThrottle(connect);
    await fail(throttle, keys('ann@example.com'), 2);
    expect(await retryAfter(throttle, keys('ann@example.com'))).toBe(0);
    await fail(throttle, keys('ann@example.com'), 2);
    expect(await retryAfter(throttle, keys('ann@example.com'))).toBe(0);
  });

  it('locks a client address after 10 failures across different accounts', async () => {
    const throttle = newThrottle(connect);
    for (let i = 0; i < 9; i++) await fail(throttle, keys(`user${i}@example.com`));
    expect(await retryAfter(throttle, keys('new@example.com'))).toBe(0);
    await fail(throttle, keys('user9@example.com'));
    expect(await retryAfter(throttle, keys('new@example.com'))).toEqual(aboutSeconds(30));
    // the same accounts from another address are fine: each had only one failure
    expect(await retryAfter(throttle, keys('user0@example.com', '198.51.100.7'))).toBe(0);
  });

  it('lets no more than the limit of parallel attempts check a password', async () => {
    const throttle = newThrottle(connect);
    const begun = await Promise.all(Array.from({ length: 20 }, () => throttle.begin(keys('ann@example.com'))));
    expect(begun.filter((attempt) => typeof attempt !== 'number')).toHaveLength(3);
    expect(begun.filter((attempt) => typeof attempt === 'number')).toHaveLength(17);
  });
});

describe.runIf(redisUrl)('login throttle (Redis, several instances)', () => {
  it('shares failures and lockouts between instances', async () => {
    const connect = stores.find(({ store }) => store === 'Redis')!.connect;
    const prefix = newPrefix();
    const [one, two] = [newThrottle(connect, prefix), newThrottle(connect, prefix)];
    const ann = keys('ann@example.com');
    await fail(one, ann, 2);
    await fail(two, ann);
    expect(await retryAfter(one, ann)).toEqual(aboutSeconds(30));
    expect(await retryAfter(two, ann)).toEqual(aboutSeconds(30));
    expect(await connect()!.keys(`${prefix}*`)).not.toEqual([]);
  });
});

describe('login throttle lockouts over time (memory)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('end after their time, and the next one lasts twice as long', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const throttle = new LoginThrottle(null, 'test:', { perAccount: 3, perAddress: 10 });
    const ann = keys('ann@example.com');
    await fail(throttle, ann, 3);
    expect(await retryAfter(throttle, ann)).toBe(30);
    vi.advanceTimersByTime(29_000);
    expect(await retryAfter(throttle, ann)).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(await retryAfter(throttle, ann)).toBe(0);
    await fail(throttle, ann, 3);
    expect(await retryAfter(throttle, ann)).toBe(60);
    vi.advanceTimersByTime(60_000);
    expect(await retryAfter(throttle, ann)).toBe(0);
  });

  it('count failures within an hour', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const throttle = new LoginThrottle(null, 'test:', { perAccount: 3, perAddress: 10 });
    const ann = keys('ann@example.com');
    await fail(throttle, ann, 2);
    vi.advanceTimersByTime(60 * 60 * 1000);
    await fail(throttle, ann, 2);
    expect(await retryAfter(throttle, ann)).toBe(0);
  });
});

describe('login throttle lockout lengths (memory)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('doubles each further lockout of the same account, up to an hour', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const throttle = new LoginThrottle(null, 'test:', { perAccount: 3, perAddress: 1_000 });
    const waits: number[] = [];
    for (let lockout = 0; lockout < 9; lockout++) {
      const ann = keys('ann@example.com', `192.0.2.${100 + lockout}`);
      await fail(throttle, ann, 3);
      const wait = await retryAfter(throttle, ann);
      waits.push(wait);
      // the lockout ends, and with it the failures; the history of lockouts stays
      vi.advanceTimersByTime(wait * 1000);
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });
});
