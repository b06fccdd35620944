// Signing up, signing in and passwords.
import type { Account, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/passwords.js';
import { digestOf } from '../../auth/secrets.js';
import { throttled } from '../../auth/throttle.js';
import type { Viewer } from '../../auth/viewer.js';
import {
  fail,
  fromZodIssues,
  isUniqueViolation,
  requestError,
  succeed,
  userError,
  type Outcome,
  type UserError,
} from '../userErrors.js';
import { issueResetEmailIfAccount } from './accountEmails.js';
import type { AuthTokens, Sessions } from './sessions.js';
import type { AccountThrottles } from './throttles.js';
import { emailInput, signUpFields } from './validation.js';

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
    private readonly throttles: AccountThrottles,
  ) {}

  /** Throttled per client address before the password is hashed (THROTTLED). */
  async signUp(
    input: { email: string; password: string; firstName: string; lastName: string },
    clientAddress: string,
  ): Promise<Outcome<SignedIn>> {
    const parsed = signUpFields.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const weak = weakPassword('password', input.password, parsed.data.email);
    if (weak) return weak;
    const wait = await this.throttles.signUp.take(clientAddress);
    if (wait) throw throttled('too many sign-ups from this address.', wait);
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
    const email = emailInput.safeParse(input.email);
    if (!email.success) return fail(...fromZodIssues(email.error.issues).map(onField('email')));
    const attempt = await this.throttles.logIn.begin({ email: email.data, clientAddress });
    if (typeof attempt === 'number') {
      return fail(
        requestError('TOO_MANY_ATTEMPTS', `Too many failed sign-in attempts. Try again in ${attempt} seconds.`),
      );
    }
    const account = await this.prisma.account.findUnique({ where: { email: email.data } });
    const matches = await verifyPassword(account?.passwordHash, input.password);
    if (!account || !matches || account.disabledAt) {
      await attempt.failed();
      return invalidCredentials();
    }
    await attempt.succeeded();
    return succeed({ account, ...(await this.sessions.start(this.prisma, account)) });
  }

  /** Sets a new password after checking the current one, and ends the account's other sessions. */
  async changePassword(
    viewer: NonNullable<Viewer>,
    input: { currentPassword: string; newPassword: string },
    clientAddress: string,
  ): Promise<Outcome<Account>> {
    const account = await this.prisma.account.findUniqueOrThrow({ where: { id: viewer.accountId } });
    const checked = await checkCurrentPassword(this.throttles, account, input.currentPassword, clientAddress);
    if (checked) return checked;
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

  /**
   * Queues a reset email when the address belongs to an enabled account; the answer and the work are the same
   * either way. Throttled per email and per client address (THROTTLED), known or not.
   */
  async requestPasswordReset(input: string, clientAddress: string): Promise<Outcome<true>> {
    const email = emailInput.safeParse(input);
    if (!email.success) return fail(...fromZodIssues(email.error.issues).map(onField('email')));
    const wait =
      (await this.throttles.resetsPerAddress.take(clientAddress)) ||
      (await this.throttles.emailsPerRecipient.take(email.data));
    if (wait) throw throttled('too many password reset requests.', wait);
    await issueResetEmailIfAccount(this.prisma, email.data);
    return succeed(true);
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
export async function expireResetTokens(tx: Prisma.TransactionClient, accountId: string): Promise<void> {
  await tx.passwordResetToken.updateMany({ where: { accountId, usedAt: null }, data: { usedAt: new Date() } });
}

/** The current password's check for changes that need it, under the sign-in throttle: null when it matches. */
export async function checkCurrentPassword(
  throttles: AccountThrottles,
  account: Account,
  password: string,
  clientAddress: string,
): Promise<Outcome<never> | null> {
  const attempt = await throttles.logIn.begin({ email: account.email, clientAddress });
  if (typeof attempt === 'number') {
    return fail(requestError('TOO_MANY_ATTEMPTS', `Too many failed attempts. Try again in ${attempt} seconds.`));
  }
  if (!(await verifyPassword(account.passwordHash, password))) {
    await attempt.failed();
    return fail(userError(['currentPassword'], 'INVALID_CREDENTIALS', 'The current password is incorrect.'));
  }
  await attempt.succeeded();
  return null;
}

/** Moves user errors of a lone value onto the input field it came from. */
const onField = (field: string) => (error: UserError) => ({ ...error, field: ['input', field] });
