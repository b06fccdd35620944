import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_WAIT_MS, SingleFlightCache, type SingleFlightCaller } from './singleFlight.js';

/** An in-memory cache that counts its reads and writes, and whose writes can be held back. */
class CountingCache implements KeyValueCache<string> {
  readonly store = new InMemoryLRUCache<string>();
  gets = 0;
  sets = 0;
  /** While set, writes wait for it. */
  gate: Promise<void> | null = null;
  failWrites = false;

  async get(key: string) {
    this.gets++;
    return this.store.get(key);
  }
  async set(key: string, value: string, options?: KeyValueCacheSetOptions) {
    this.sets++;
    await this.gate;
    if (this.failWrites) throw new Error('cache down');
    await this.store.set(key, value, options);
  }
  delete(key: string) {
    return this.store.delete(key);
  }
}

/** A promise whose outcome can be looked at without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const watched = { settled: false, value: undefined as T | undefined };
  void promise.then((value) => Object.assign(watched, { settled: true, value }));
  return watched;
}

/** Lets every pending promise callback run (with real or fake timers). */
const flush = () => vi.advanceTimersByTimeAsync(0);

function setUp(options?: ConstructorParameters<typeof SingleFlightCache>[1]) {
  vi.useFakeTimers();
  const inner = new CountingCache();
  const flight = new SingleFlightCache(inner, options);
  return { inner, flight };
}

/** `count` callers missing `key` at once: the one that got the lease, and the others' pending reads. */
async function stampede(flight: SingleFlightCache, key: string, count: number) {
  const callers = Array.from({ length: count }, () => flight.caller());
  const reads = callers.map((caller) => watch(caller.get(key)));
  await flush();
  const builders = callers.filter((_, i) => reads[i]!.settled);
  expect(builders).toHaveLength(1);
  expect(reads.find((read) => read.settled)!.value).toBeUndefined();
  return { builder: builders[0]!, waiting: reads.filter((read) => !read.settled), callers };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SingleFlightCache', () => {
  it('lets one of many concurrent misses build; the others get the value it sets', async () => {
    const { inner, flight } = setUp();
    const { builder, waiting } = await stampede(flight, 'page', 20);
    expect(waiting).toHaveLength(19);

    await builder.set('page', 'built');
    await flush();
    expect(waiting.every((read) => read.settled && read.value === 'built')).toBe(true);
    expect(inner.sets).toBe(1);
    expect(await inner.store.get('page')).toBe('built');
    builder.release(); // nothing left to give up

    // Later reads are plain hits.
    expect(await flight.caller().get('page')).toBe('built');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers hits from the cache without holding anyone back', async () => {
    const { inner, flight } = setUp();
    await inner.store.set('page', 'cached');
    const reads = await Promise.all(Array.from({ length: 5 }, () => flight.caller().get('page')));
    expect(reads).toEqual(Array(5).fill('cached'));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('hands the value over at once, and to misses that arrive while it is being stored', async () => {
    const { inner, flight } = setUp();
    let open!: () => void;
    inner.gate = new Promise((resolve) => (open = resolve));
    const { builder, waiting } = await stampede(flight, 'page', 3);

    const storing = watch(builder.set('page', 'built'));
    await flush();
    expect(waiting.map((read) => read.value)).toEqual(['built', 'built']);
    expect(storing.settled).toBe(false);
    const gets = inner.gets;
    expect(await flight.caller().get('page')).toBe('built');
    expect(inner.gets).toBe(gets);

    open();
    await flush();
    expect(storing.settled).toBe(true);
    expect(await flight.caller().get('page')).toBe('built');
    expect(inner.gets).toBe(gets + 1);
  });

  it('lets each waiter build for itself when the builder gives up, and stops coalescing that key for a while', async () => {
    const { inner, flight } = setUp({ unsharedMs: 10_000 });
    const { builder, waiting } = await stampede(flight, 'viewer', 5);
    builder.release();
    await flush();
    expect(waiting.every((read) => read.settled && read.value === undefined)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    // The next concurrent misses all build at once: they would never share anything.
    const again = Array.from({ length: 3 }, () => watch(flight.caller().get('viewer')));
    await flush();
    expect(again.every((read) => read.settled && read.value === undefined)).toBe(true);

    await vi.advanceTimersByTimeAsync(10_000);
    const later = await stampede(flight, 'viewer', 3);
    expect(later.waiting).toHaveLength(2);
    await later.builder.set('viewer', 'shared at last');
    await flush();
    expect(later.waiting.map((read) => read.value)).toEqual(['shared at last', 'shared at last']);
    expect(inner.sets).toBe(1);
  });

  it('coalesces a key again as soon as one of its builds is stored', async () => {
    const { flight } = setUp();
    (await stampede(flight, 'page', 2)).builder.release();
    await flight.caller().set('page', 'built');
    await flight.caller().delete('page'); // as if it had expired
    const { waiting } = await stampede(flight, 'page', 2);
    expect(waiting).toHaveLength(1);
  });

  it('forgets the oldest unshared keys beyond the limit', async () => {
    const { flight } = setUp({ maxUnsharedKeys: 2 });
    for (const key of ['a', 'b', 'c']) (await stampede(flight, key, 1)).builder.release();
    expect((await stampede(flight, 'a', 2)).waiting).toHaveLength(1);
    const b = [watch(flight.caller().get('b')), watch(flight.caller().get('b'))];
    await flush();
    expect(b.every((read) => read.settled)).toBe(true);
  });

  it('lets a lease lapse after the wait: its waiters build for themselves and the next miss leases again', async () => {
    const { flight } = setUp();
    const { waiting } = await stampede(flight, 'page', 4);
    await vi.advanceTimersByTimeAsync(DEFAULT_WAIT_MS - 1);
    expect(waiting.some((read) => read.settled)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.every((read) => read.settled && read.value === undefined)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    const next = await stampede(flight, 'page', 2);
    expect(next.waiting).toHaveLength(1);
  });

  it('ends the lease when storing fails: the waiters still get the value, later misses lease again', async () => {
    const { inner, flight } = setUp();
    inner.failWrites = true;
    const { builder, waiting } = await stampede(flight, 'page', 3);
    await expect(builder.set('page', 'built')).rejects.toThrow('cache down');
    expect(waiting.map((read) => read.value)).toEqual(['built', 'built']);
    expect(vi.getTimerCount()).toBe(0);
    expect((await stampede(flight, 'page', 2)).waiting).toHaveLength(1);
  });

  it('keeps keys apart, and never makes a caller wait for its own lease', async () => {
    const { flight } = setUp();
    const a = await stampede(flight, 'a', 2);
    const b = await stampede(flight, 'b', 2);
    expect(a.builder).not.toBe(b.builder);
    expect(await a.builder.get('a')).toBeUndefined();

    await a.builder.set('a', 'A');
    await flush();
    expect(a.waiting[0]!.value).toBe('A');
    expect(b.waiting[0]!.settled).toBe(false);
    b.builder.release();
    await flush();
    expect(b.waiting[0]!.settled).toBe(true);
  });

  it('deletes through to the cache', async () => {
    const { inner, flight } = setUp();
    await inner.store.set('page', 'cached');
    const caller: SingleFlightCaller = flight.caller();
    expect(await caller.delete('page')).toBe(true);
    expect(await caller.get('page')).toBeUndefined();
  });
});
