// Refuses sign-in attempts after repeated failures, per account (email) and per client address. Each lockout lasts
// twice as long as the one before it within a day. State lives in Redis when configured, so all instances share it,
// and falls back to process memory when Redis is unreachable.
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  type IRateLimiterOptions,
} from 'rate-limiter-flexible';
import type { Redis } from '../redis.js';

const HOUR = 60 * 60;
const FIRST_LOCKOUT_SECONDS = 30;
const MAX_LOCKOUT_SECONDS = HOUR;

function limiter(redis: Redis | null, options: IRateLimiterOptions): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
}

export interface ThrottleKeys {
  email: string;
  clientAddress: string;
}

export class LoginThrottle {
  private readonly failures: { limiter: RateLimiterAbstract; keyOf: (keys: ThrottleKeys) => string }[];
  private readonly lockouts: RateLimiterAbstract;

  constructor(redis: Redis | null, keyPrefix: string, limits = { perAccount: 5, perAddress: 50 }) {
    this.failures = [
      {
        limiter: limiter(redis, {
          keyPrefix: `${keyPrefix}login-fail:account`,
          points: limits.perAccount,
          duration: HOUR,
        }),
        keyOf: (keys) => keys.email,
      },
      {
        limiter: limiter(redis, {
          keyPrefix: `${keyPrefix}login-fail:address`,
          points: limits.perAddress,
          duration: HOUR,
        }),
        keyOf: (keys) => keys.clientAddress,
      },
    ];
    this.lockouts = limiter(redis, { keyPrefix: `${keyPrefix}login-lockouts`, points: 1_000, duration: 24 * HOUR });
  }

  /** Seconds until another attempt is allowed, or 0 when one is allowed now. */
  async retryAfter(keys: ThrottleKeys): Promise<number> {
    const waits = await Promise.all(
      this.failures.map(async ({ limiter, keyOf }) => {
        const state = await limiter.get(keyOf(keys));
        return state && state.consumedPoints > limiter.points ? Math.ceil(state.msBeforeNext / 1000) : 0;
      }),
    );
    return Math.max(...waits);
  }

  async recordFailure(keys: ThrottleKeys): Promise<void> {
    await Promise.all(
      this.failures.map(async ({ limiter, keyOf }) => {
        const key = keyOf(keys);
        const state = await limiter.consume(key).catch((rejection: unknown) => {
          if (rejection instanceof RateLimiterRes) return rejection;
          throw rejection;
        });
        // The counter is atomic (Redis INCR), so exactly one failure is the one that reaches the limit: only it
        // starts a lockout, however many attempts race.
        if (state.consumedPoints !== limiter.points) return;
        const { consumedPoints: lockouts } = await this.lockouts.penalty(`${limiter.keyPrefix}:${key}`);
        await limiter.block(key, Math.min(FIRST_LOCKOUT_SECONDS * 2 ** (lockouts - 1), MAX_LOCKOUT_SECONDS));
      }),
    );
  }

  /** A successful sign-in clears the account's failures (not the address's, nor the lockout history). */
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    await this.failures[0]!.limiter.delete(keys.email);
  }
}
