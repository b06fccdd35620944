// Single flight over any KeyValueCache (Redis, memory): when several requests of this process miss the same key at
// once, the first one builds the value and the others wait for it instead of each building it again. Processes do
// not coordinate with each other: each builds a key at most once at a time.
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';

export interface SingleFlightOptions {
  /** How long a build may keep others waiting, in ms. A lease not ended by then lapses: its waiters build for
   * themselves, and the next miss takes a new lease. */
  waitMs?: number;
  /** How long, in ms, the misses of a key whose build was given up without being stored (an error, a response not
   * to be shared) are not coalesced, so that requests which never share a value do not queue behind each other. */
  unsharedMs?: number;
  /** At most this many such keys are remembered; the oldest are forgotten first. */
  maxUnsharedKeys?: number;
}

export const DEFAULT_WAIT_MS = 2_000;

/** The cache as one caller (one request) sees it. When its `get` misses a key that nobody is building, the caller
 * holds that key's lease: it builds the value, and its `set` hands the value to the waiters. */
export interface SingleFlightCaller<V = string> extends KeyValueCache<V> {
  /** Gives up the leases this caller holds and has not set: their waiters build for themselves. */
  release(): void;
}

/** One build in progress. `value` settles with what was built, or with undefined when there is nothing to share. */
class Lease<V> {
  readonly value: Promise<V | undefined>;
  private settleValue!: (value: V | undefined) => void;
  private readonly lapse: NodeJS.Timeout;

  constructor(lifetimeMs: number, onLapse: () => void) {
    this.value = new Promise((resolve) => {
      this.settleValue = resolve;
    });
    this.lapse = setTimeout(onLapse, lifetimeMs).unref();
  }

  settle(value: V | undefined): void {
    clearTimeout(this.lapse);
    this.settleValue(value);
  }
}

export class SingleFlightCache<V = string> {
  private readonly leases = new Map<string, Lease<V>>();
  /** Key -> until when (Date.now()) its misses are not coalesced. */
  private readonly unshared = new Map<string, number>();
  private readonly waitMs: number;
  private readonly unsharedMs: number;
  private readonly maxUnsharedKeys: number;

  constructor(
    private readonly cache: KeyValueCache<V>,
    { waitMs = DEFAULT_WAIT_MS, unsharedMs = 10_000, maxUnsharedKeys = 10_000 }: SingleFlightOptions = {},
  ) {
    this.waitMs = waitMs;
    this.unsharedMs = unsharedMs;
    this.maxUnsharedKeys = maxUnsharedKeys;
  }

  /** A view of the cache for one caller, which must call `release()` once it is done (whether it set or not). */
  caller(): SingleFlightCaller<V> {
    const held = new Map<string, Lease<V>>();
    return {
      get: (key) => this.get(key, held),
      set: (key, value, options) => this.set(key, value, options, held),
      delete: (key) => this.cache.delete(key),
      release: () => {
        for (const [key, lease] of held) {
          this.markUnshared(key);
          this.end(key, lease, undefined);
        }
        held.clear();
      },
    };
  }

  private async get(key: string, held: Map<string, Lease<V>>): Promise<V | undefined> {
    if (held.has(key)) return this.cache.get(key); // never wait for oneself
    const building = this.leases.get(key);
    if (building) return building.value;
    const value = await this.cache.get(key);
    if (value !== undefined || this.isUnshared(key)) return value;
    // Another caller may have missed, and taken the lease, while this one was reading.
    const other = this.leases.get(key);
    if (other) return other.value;
    const lease: Lease<V> = new Lease(this.waitMs, () => this.end(key, lease, undefined));
    this.leases.set(key, lease);
    held.set(key, lease);
    return undefined;
  }

  private async set(
    key: string,
    value: V,
    options: KeyValueCacheSetOptions | undefined,
    held: Map<string, Lease<V>>,
  ): Promise<void> {
    const lease = held.get(key);
    held.delete(key);
    this.unshared.delete(key);
    // The waiters take the value now; until it is stored, later misses take it from the lease too.
    lease?.settle(value);
    try {
      await this.cache.set(key, value, options);
    } finally {
      if (lease) this.end(key, lease, value);
    }
  }

  private end(key: string, lease: Lease<V>, value: V | undefined): void {
    lease.settle(value); // no effect when already settled
    if (this.leases.get(key) === lease) this.leases.delete(key);
  }

  private isUnshared(key: string): boolean {
    const until = this.unshared.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.unshared.delete(key);
    return false;
  }

  private markUnshared(key: string): void {
    this.unshared.delete(key); // re-inserted last: the map stays in order of expiry
    this.unshared.set(key, Date.now() + this.unsharedMs);
    if (this.unshared.size > this.maxUnsharedKeys) this.unshared.delete(this.unshared.keys().next().value!);
  }
}
