// Signing up, signing in and passwords.
import type { Account, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { LoginThrottle } from '../../auth/loginThrottle.js';
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/passwords.js';
import { digestOf, newOpaqueToken } from '../../auth/secrets.js';
import type { Viewer } from '../../auth/viewer.js';
import { enqueueEmail } from '../../mail/outbox.js';
import {
  fail,
  fromZodIssues,
  isUniqueViolation,
  requestError,
  succeed,
  userError,
  type Outcome,
} from '../userErrors.js';
import type { AuthTokens, Sessions } from './sessions.js';
import { normalizeEmail, signUpFields } from './validation.js';

const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;
export const INVITATION_TTL_MS = 72 * 60 * 60 * 1000;

const invalidCredentials = () => fail(requestError('INVALID_CREDENTIALS', 'The email or password is incorrect.'));

const weakPassword = (field: string, password: string, email: string) => {
  const problem = passwordProblem(password, email);
  return problem && fail(userError([field], problem.code, problem.message));
};

export interface SignedIn {
  account: Account;
  viewer: NonNullable<Viewer>;
  tokens: AuthTokens;
}

export class AuthService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sessions: Sessions,
    private readonly throttle: LoginThrottle,
  ) {}

  async signUp(input: {
    email: string;
    password: string;
    firstName: string;
    lastName: string;
  }): Promise<Outcome<SignedIn>> {
    const parsed = signUpFields.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const weak = weakPassword('password', input.password, parsed.data.email);
    if (weak) return weak;
    const passwordHash = await hashPassword(input.password);
    try {
      return succeed(
        await this.prisma.$transaction(async (tx) => {
          const account = await tx.account.create({ data: { ...parsed.data, passwordHash } });
          return { account, ...(await this.sessions.start(tx, account)) };
        }),
      );
    } catch (error) {
      if (!isUniqueViolation(error, 'email')) throw error;
      return fail(userError(['email'], 'TAKEN', 'An account with this email already exists.'));
    }
  }

  /** Unknown email, wrong password and disabled account all fail alike, after one Argon2 verification each. */
  async logIn(input: { email: string; password: string }, clientAddress: string): Promise<Outcome<SignedIn>> {
    const keys = { email: normalizeEmail(input.email), clientAddress };
    const wait = await this.throttle.retryAfter(keys);
    if (wait > 0) {
      return fail(requestError('TOO_MANY_ATTEMPTS', `Too many failed sign-in attempts. Try again in ${wait} seconds.`));
    }
    const account = await this.prisma.account.findUnique({ where: { email: keys.email } });
    const matches = await verifyPassword(account?.passwordHash, input.password);
    if (!account || !matches || account.disabledAt) {
      await this.throttle.recordFailure(keys);
      return invalidCredentials();
    }
    await this.throttle.recordSuccess(keys);
    return succeed({ account, ...(await this.sessions.start(this.prisma, account)) });
  }

  /** Sets a new password after checking the current one, and ends the account's other sessions. */
  async changePassword(
    viewer: NonNullable<Viewer>,
    input: { currentPassword: string; newPassword: string },
    clientAddress: string,
  ): Promise<Outcome<Account>> {
    const account = await this.prisma.account.findUniqueOrThrow({ where: { id: viewer.accountId } });
    const keys = { email: account.email, clientAddress };
    const wait = await this.throttle.retryAfter(keys);
    if (wait > 0) {
      return fail(requestError('TOO_MANY_ATTEMPTS', `Too many failed attempts. Try again in ${wait} seconds.`));
    }
    if (!(await verifyPassword(account.passwordHash, input.currentPassword))) {
      await this.throttle.recordFailure(keys);
      return fail(userError(['currentPassword'], 'INVALID_CREDENTIALS', 'The current password is incorrect.'));
    }
    const weak = weakPassword('newPassword', input.newPassword, account.email);
    if (weak) return weak;
    const passwordHash = await hashPassword(input.newPassword);
    return succeed(
      await this.prisma.$transaction(async (tx) => {
        await this.sessions.revoke(tx, { accountId: account.id, id: { not: viewer.sessionId } });
        await expireResetTokens(tx, account.id);
        return tx.account.update({ where: { id: account.id }, data: { passwordHash } });
      }),
    );
  }

  /** Queues a reset email when the address belongs to an enabled account; the answer is the same either way. */
  async requestPasswordReset(email: string): Promise<void> {
    const account = await this.prisma.account.findUnique({ where: { email: normalizeEmail(email) } });
    if (!account || account.disabledAt) return;
    await this.prisma.$transaction((tx) =>
      issueSetPasswordEmail(tx, account, RESET_TOKEN_TTL_MS, {
        subject: 'Reset your Agora password',
        intro: 'Someone asked to reset the password of your Agora account. If it was not you, ignore this email.',
      }),
    );
  }

  /** Sets a password with a reset or invitation token (single use), and ends every session of the account. */
  async resetPassword(input: { token: string; newPassword: string }): Promise<Outcome<true>> {
    const reset = await this.prisma.passwordResetToken.findUnique({
      where: { tokenHash: digestOf(input.token) },
      include: { account: true },
    });
    const invalid = fail(userError(['token'], 'INVALID_TOKEN', 'This link is invalid or has expired.'));
    if (!reset || reset.usedAt || reset.expiresAt <= new Date() || reset.account.disabledAt) return invalid;
    const weak = weakPassword('newPassword', input.newPassword, reset.account.email);
    if (weak) return weak;
    const passwordHash = await hashPassword(input.newPassword);
    const done = await this.prisma.$transaction(async (tx) => {
      const claimed = await tx.passwordResetToken.updateMany({
        where: { id: reset.id, usedAt: null },
        data: { usedAt: new Date() },
      });
      if (claimed.count === 0) return false;
      await expireResetTokens(tx, reset.accountId);
      await tx.account.update({ where: { id: reset.accountId }, data: { passwordHash } });
      await this.sessions.revoke(tx, { accountId: reset.accountId });
      return true;
    });
    return done ? succeed(true) : invalid;
  }
}

/** Once a password is set, older reset links must not set it again. */
async function expireResetTokens(tx: Prisma.TransactionClient, accountId: string): Promise<void> {
  await tx.passwordResetToken.updateMany({ where: { accountId, usedAt: null }, data: { usedAt: new Date() } });
}

/** Creates a single-use token to set the account's password and queues the email that carries it. */
export async function issueSetPasswordEmail(
  tx: Parameters<typeof enqueueEmail>[0],
  account: Pick<Account, 'id' | 'email' | 'firstName'>,
  ttlMs: number,
  message: { subject: string; intro: string },
): Promise<string> {
  const token = newOpaqueToken();
  await tx.passwordResetToken.create({
    data: { accountId: account.id, tokenHash: digestOf(token), expiresAt: new Date(Date.now() + ttlMs) },
  });
  await enqueueEmail(tx, {
    to: account.email,
    subject: message.subject,
    body: `Hello ${account.firstName},\n\n${message.intro}\n\nTo set your password, use this token with the passwordReset mutation (valid for ${Math.round(ttlMs / 3_600_000)} hours):\n\n${token}\n`,
  });
  return token;
}
