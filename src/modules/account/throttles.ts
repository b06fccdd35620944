// The throttles guarding accounts: sign-in failures (per account and per address), sign-ups per address, and reset
// and confirmation emails per recipient and per address. Each new account is a fresh rate-limit bucket of its own,
// so the sign-up throttle is also what bounds how many buckets one address can mint.
import { LoginThrottle } from '../../auth/loginThrottle.js';
import { Throttle } from '../../auth/throttle.js';
import type { Config } from '../../config.js';
import type { Redis } from '../../redis.js';

export interface AccountThrottles {
  logIn: LoginThrottle;
  signUp: Throttle;
  /** Account emails (password reset, email change) sent to one address. */
  emailsPerRecipient: Throttle;
  /** Password reset requests from one client address. */
  resetsPerAddress: Throttle;
}

export type ThrottleConfig = Pick<
  Config,
  'REDIS_KEY_PREFIX' | 'SIGN_UP_LIMIT' | 'PASSWORD_RESET_LIMIT_PER_EMAIL' | 'PASSWORD_RESET_LIMIT_PER_ADDRESS'
>;

export const accountThrottles = (redis: Redis | null, config: ThrottleConfig): AccountThrottles => ({
  logIn: new LoginThrottle(redis, config.REDIS_KEY_PREFIX),
  signUp: new Throttle(redis, `${config.REDIS_KEY_PREFIX}sign-up:address`, config.SIGN_UP_LIMIT),
  emailsPerRecipient: new Throttle(
    redis,
    `${config.REDIS_KEY_PREFIX}account-email:recipient`,
    config.PASSWORD_RESET_LIMIT_PER_EMAIL,
  ),
  resetsPerAddress: new Throttle(
    redis,
    `${config.REDIS_KEY_PREFIX}password-reset:address`,
    config.PASSWORD_RESET_LIMIT_PER_ADDRESS,
  ),
});
