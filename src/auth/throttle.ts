// Fixed-window throttles on what an attacker repeats cheaply and we pay for dearly (signing up hashes a password,
// a reset request sends an email, an order lookup confirms a guess). Points are taken with an atomic increment
// before the work, so parallel requests cannot all slip under the limit. Keys are digests: whatever a client sends,
// a key has one size. State lives in Redis when configured (shared by every instance), in memory otherwise or
// while Redis is unreachable.
import { createHash } from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Redis } from '../redis.js';

/** So many points per so many seconds. */
export interface Window {
  points: number;
  seconds: number;
}

export function rateLimiter(redis: Redis | null, options: IRateLimiterOptions): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
}

/** A throttle key for client input (an email, an address): a SHA-256 digest, 43 characters whatever came in. */
export const digestKey = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** Seconds to wait, rounded up, from a refusal. */
export const secondsOf = (refusal: RateLimiterRes): number => Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));

/** Consumes `points` for `key`: the limiter's state, or its refusal when the window has no points left. */
export async function consume(
  limiter: RateLimiterAbstract,
  key: string,
  points = 1,
): Promise<{ allowed: boolean; state: RateLimiterRes }> {
  try {
    return { allowed: true, state: await limiter.consume(key, points) };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { allowed: false, state: rejection };
    throw rejection;
  }
}

export class Throttle {
  private readonly limiter: RateLimiterAbstract;

  constructor(redis: Redis | null, keyPrefix: string, window: Window) {
    this.limiter = rateLimiter(redis, { keyPrefix, points: window.points, duration: window.seconds });
  }

  /** Takes `points` for `key`; 0 when they were there, otherwise the seconds until they will be. */
  async take(key: string, points = 1): Promise<number> {
    const { allowed, state } = await consume(this.limiter, digestKey(key), points);
    return allowed ? 0 : secondsOf(state);
  }

  /** Gives back points taken for work that turned out cheaper than charged. */
  async giveBack(key: string, points: number): Promise<void> {
    await this.limiter.reward(digestKey(key), points);
  }
}

/** The API's answer to a client over a throttle, as for query cost: THROTTLED, 429 and Retry-After. */
export const throttled = (reason: string, retryAfterSeconds: number): GraphQLError =>
  new GraphQLError(`Throttled: ${reason} Retry in ${retryAfterSeconds} s.`, {
    extensions: {
      code: 'THROTTLED',
      retryAfterSeconds,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    },
  });
