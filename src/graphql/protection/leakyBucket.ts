// Leaky buckets of query-cost points, one per client: in Redis when configured (one Lua script, so every instance
// shares the bucket and a take is atomic), in process memory otherwise.
import type { Redis } from '../../redis.js';

export interface BucketLimits {
  /** Points a full bucket holds: the largest burst. */
  capacity: number;
  /** Points restored per second. */
  restoreRate: number;
}

export interface BucketState {
  /** Whether the points were taken (always true for a refund). */
  taken: boolean;
  /** Points left after this call. */
  available: number;
}

export interface LeakyBuckets {
  /**
   * Takes `points` if the bucket holds that many; a negative amount gives points back, up to the capacity. With
   * `force`, takes them whatever the bucket holds, leaving it in debt (below 0) if need be.
   */
  take(key: string, points: number, limits: BucketLimits, force?: boolean): Promise<BucketState>;
}

/** Refills a bucket for the time since it was last touched. */
export const refilled = (available: number, elapsedMs: number, limits: BucketLimits) =>
  Math.min(limits.capacity, available + (Math.max(elapsedMs, 0) * limits.restoreRate) / 1000);

export function memoryBuckets(now: () => number = Date.now): LeakyBuckets {
  const buckets = new Map<string, { available: number; at: number }>();
  const forgetFullBuckets = (limits: BucketLimits, at: number) => {
    for (const [key, bucket] of buckets) {
      if (refilled(bucket.available, at - bucket.at, limits) >= limits.capacity) buckets.delete(key);
    }
  };
  return {
    async take(key, points, limits, force = false) {
      const at = now();
      if (buckets.size > 50_000) forgetFullBuckets(limits, at);
      const bucket = buckets.get(key);
      const available = bucket ? refilled(bucket.available, at - bucket.at, limits) : limits.capacity;
      const taken = force || points <= available;
      const left = taken ? Math.min(limits.capacity, available - points) : available;
      buckets.set(key, { available: left, at });
      return { taken, available: left };
    },
  };
}

// The same arithmetic as `refilled` above, on Redis's own clock so that instances with skewed clocks agree.
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local force = ARGV[4] == '1'
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
available = math.min(capacity, available + math.max(now - at, 0) * rate / 1000)
local taken = force or points <= available
if taken then available = math.min(capacity, available - points) end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - available) * 1000 / rate) + 1000)
return { taken and 1 or 0, tostring(available) }
`;

type TakeCommand = (
  key: string,
  capacity: number,
  restoreRate: number,
  points: number,
  force: 0 | 1,
) => Promise<[number, string]>;

export function redisBuckets(redis: Redis, keyPrefix: string): LeakyBuckets {
  // defineCommand runs the script by its SHA, loading it once per connection.
  redis.defineCommand('takeFromLeakyBucket', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  const takeFromLeakyBucket = (redis as unknown as { takeFromLeakyBucket: TakeCommand }).takeFromLeakyBucket.bind(
    redis,
  );
  return {
    async take(key, points, limits, force = false) {
      const [taken, available] = await takeFromLeakyBucket(
        `${keyPrefix}${key}`,
        limits.capacity,
        limits.restoreRate,
        points,
        force ? 1 : 0,
      );
      return { taken: taken === 1, available: Number(available) };
    },
  };
}
