// Refuses sign-in attempts after repeated failures, per account (email) and per client address. Each lockout lasts
// twice as long as the one before it within a day. Every attempt takes its point before the password is checked
// (an atomic increment), so however many guesses arrive at once, no more than the limit reach the hash; a success
// gives its point back. State lives in Redis when configured, so all instances share it, and falls back to process
// memory when Redis is unreachable. Keys are digests of the email and the address.
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from '../redis.js';
import { consume, digestKey, rateLimiter, secondsOf } from './throttle.js';

const HOUR = 60 * 60;
const FIRST_LOCKOUT_SECONDS = 30;
const MAX_LOCKOUT_SECONDS = HOUR;

export interface ThrottleKeys {
  email: string;
  clientAddress: string;
}

/** An attempt that may go on to check the password; report how it ended. */
export interface Attempt {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

export class LoginThrottle {
  private readonly account: RateLimiterAbstract;
  private readonly address: RateLimiterAbstract;
  private readonly lockouts: RateLimiterAbstract;

  constructor(redis: Redis | null, keyPrefix: string, limits = { perAccount: 5, perAddress: 50 }) {
    this.account = rateLimiter(redis, {
      keyPrefix: `${keyPrefix}login-fail:account`,
      points: limits.perAccount,
      duration: HOUR,
    });
    this.address = rateLimiter(redis, {
      keyPrefix: `${keyPrefix}login-fail:address`,
      points: limits.perAddress,
      duration: HOUR,
    });
    this.lockouts = rateLimiter(redis, { keyPrefix: `${keyPrefix}login-lockouts`, points: 1_000, duration: 24 * HOUR });
  }

  /** Takes an attempt for the account and the address: the attempt, or the seconds to wait when either is locked. */
  async begin(keys: ThrottleKeys): Promise<Attempt | number> {
    const taken = await Promise.all(
      [
        { limiter: this.account, key: digestKey(keys.email) },
        { limiter: this.address, key: digestKey(keys.clientAddress) },
      ].map(async (counter) => ({ ...counter, ...(await consume(counter.limiter, counter.key)) })),
    );
    const refusals = taken.filter(({ allowed }) => !allowed);
    if (refusals.length) {
      // A refused attempt guessed nothing: it costs the other counter nothing either.
      await Promise.all(taken.filter(({ allowed }) => allowed).map(({ limiter, key }) => limiter.reward(key, 1)));
      return Math.max(...refusals.map(({ state }) => secondsOf(state)));
    }
    return {
      succeeded: async () => {
        // The account's failures are forgotten; the address only gets its point back.
        await Promise.all([this.account.delete(taken[0]!.key), this.address.reward(taken[1]!.key, 1)]);
      },
      failed: async () => {
        await Promise.all(taken.map(({ limiter, key, state }) => this.lockIfLimitReached(limiter, key, state)));
      },
    };
  }

  /** Exactly one attempt took the limit's last point (the counter is atomic): its failure starts the lockout. */
  private async lockIfLimitReached(limiter: RateLimiterAbstract, key: string, state: RateLimiterRes): Promise<void> {
    if (state.consumedPoints !== limiter.points) return;
    const kind = limiter === this.account ? 'account' : 'address';
    const { consumedPoints: lockouts } = await this.lockouts.penalty(`${kind}:${key}`);
    await limiter.block(key, Math.min(FIRST_LOCKOUT_SECONDS * 2 ** (lockouts - 1), MAX_LOCKOUT_SECONDS));
  }
}
