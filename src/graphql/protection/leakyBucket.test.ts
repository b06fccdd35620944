import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryBuckets, redisBuckets, refilled, type LeakyBuckets } from './leakyBucket.js';

const limits = { capacity: 100, restoreRate: 50 };

describe('refilled', () => {
  it('restores at the rate, never beyond the capacity, and not for time running backwards', () => {
    expect(refilled(0, 1000, limits)).toBe(50);
    expect(refilled(80, 1000, limits)).toBe(100);
    expect(refilled(10, -5000, limits)).toBe(10);
  });
});

const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : null;
afterAll(() => redis?.quit());

const stores: [string, () => LeakyBuckets][] = [
  ['in memory', () => memoryBuckets()],
  ...(redis
    ? [['in Redis', () => redisBuckets(redis, `agora-test-${crypto.randomUUID()}:`)] as [string, () => LeakyBuckets]]
    : []),
];

describe.each(stores)('leaky buckets %s', (_name, create) => {
  it('starts full, takes what is there, and refuses more without taking anything', async () => {
    const buckets = create();
    expect(await buckets.take('a', 60, limits)).toEqual({ taken: true, available: 40 });
    const refused = await buckets.take('a', 60, limits);
    expect(refused.taken).toBe(false);
    expect(refused.available).toBeGreaterThanOrEqual(40);
    expect(refused.available).toBeLessThan(45);
  });

  it('keeps one bucket per key', async () => {
    const buckets = create();
    await buckets.take('a', 100, limits);
    expect(await buckets.take('b', 100, limits)).toEqual({ taken: true, available: 0 });
  });

  it('gives points back up to the capacity', async () => {
    const buckets = create();
    await buckets.take('a', 70, limits);
    expect((await buckets.take('a', -50, limits)).available).toBeGreaterThanOrEqual(80);
    expect((await buckets.take('a', -500, limits)).available).toBe(100);
  });

  it('refills over time', async () => {
    const buckets = create();
    await buckets.take('a', 100, limits);
    await new Promise((resolve) => setTimeout(resolve, 220));
    const state = await buckets.take('a', 0, limits);
    expect(state.available).toBeGreaterThanOrEqual(10);
    expect(state.available).toBeLessThan(20);
  });

  it('takes forced points whatever the bucket holds, into debt that refills and is given back', async () => {
    const buckets = create();
    await buckets.take('a', 90, limits);
    const debt = await buckets.take('a', 60, limits, true);
    expect(debt.taken).toBe(true);
    expect(debt.available).toBeLessThan(-45);
    expect((await buckets.take('a', 1, limits)).taken).toBe(false);
    expect((await buckets.take('a', -20, limits, true)).available).toBeLessThan(-25);
  });

  it('lets exactly the points in a full bucket through a burst of concurrent takes', async () => {
    const buckets = create();
    const results = await Promise.all(Array.from({ length: 30 }, () => buckets.take('burst', 10, limits)));
    expect(results.filter((result) => result.taken)).toHaveLength(10);
  });
});
