// An account's own details and addresses, and what admins do to accounts.
import type { Account, Address, PrismaClient, Role } from '../../generated/prisma/client.js';
import { digestOf } from '../../auth/secrets.js';
import { throttled } from '../../auth/throttle.js';
import type { Viewer } from '../../auth/viewer.js';
import { newestFirst, type Connection, type PageArgs } from '../../graphql/connection.js';
import { enqueueEmail } from '../../mail/outbox.js';
import {
  fail,
  fromZodIssues,
  isUniqueViolation,
  requestError,
  Rollback,
  succeed,
  transact,
  userError,
  type Outcome,
} from '../userErrors.js';
import { INVITATION_TTL_MS, issueEmailChange, issueSetPasswordEmail } from './accountEmails.js';
import { checkCurrentPassword, expireResetTokens } from './authService.js';
import { addressLimitReached } from './addressLimit.js';
import type { Sessions } from './sessions.js';
import type { AccountThrottles } from './throttles.js';
import { accountChanges, addressFields, emailChange, staffFields } from './validation.js';

type AddressInput = Parameters<typeof addressFields.parse>[0];

const emailTaken = () => fail(userError(['email'], 'TAKEN', 'An account with this email already exists.'));
const notYourself = (action: string) =>
  fail(userError(['accountId'], 'CONFLICT', `Admins cannot ${action} their own account; ask another admin.`));

export class AccountService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sessions: Sessions,
    private readonly throttles: AccountThrottles,
  ) {}

  /** Names only: the email changes through requestEmailChange and confirmEmailChange. */
  async update(accountId: string, input: Parameters<typeof accountChanges.parse>[0]): Promise<Outcome<Account>> {
    const parsed = accountChanges.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    return succeed(await this.prisma.account.update({ where: { id: accountId }, data: parsed.data }));
  }

  /**
   * Mails a token to the new address, after checking the current password (a stolen access token alone cannot move
   * the account to another mailbox), and tells the old address. Nothing changes until the token comes back. Whether
   * the new address is taken is told only to whoever confirms it, who owns it.
   */
  async requestEmailChange(
    viewer: NonNullable<Viewer>,
    input: { newEmail: string; currentPassword: string },
    clientAddress: string,
  ): Promise<Outcome<Account>> {
    const parsed = emailChange.safeParse({ newEmail: input.newEmail });
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const { newEmail } = parsed.data;
    const account = await this.prisma.account.findUniqueOrThrow({ where: { id: viewer.accountId } });
    const checked = await checkCurrentPassword(this.throttles, account, input.currentPassword, clientAddress);
    if (checked) return checked;
    if (newEmail === account.email) {
      return fail(userError(['newEmail'], 'INVALID', 'This is already the email of the account.'));
    }
    const wait = await this.throttles.emailsPerRecipient.take(newEmail);
    if (wait) throw throttled('too many emails to this address.', wait);
    await this.prisma.$transaction((tx) => issueEmailChange(tx, account, newEmail));
    return succeed(account);
  }

  /** Sets the email a change token was sent to (single use); ends pending resets and changes, tells the old address. */
  async confirmEmailChange(token: string): Promise<Outcome<Account>> {
    const invalid = userError(['token'], 'INVALID_TOKEN', 'This link is invalid or has expired.');
    const change = await this.prisma.emailChangeToken.findUnique({
      where: { tokenHash: digestOf(token) },
      include: { account: true },
    });
    if (!change || change.usedAt || change.expiresAt <= new Date() || change.account.disabledAt) return fail(invalid);
    try {
      return await transact(this.prisma, async (tx) => {
        const now = new Date();
        const claimed = await tx.emailChangeToken.updateMany({
          where: { id: change.id, usedAt: null },
          data: { usedAt: now },
        });
        if (claimed.count === 0) throw new Rollback(invalid);
        await tx.emailChangeToken.updateMany({
          where: { accountId: change.accountId, usedAt: null },
          data: { usedAt: now },
        });
        await expireResetTokens(tx, change.accountId);
        const before = await tx.account.findUniqueOrThrow({ where: { id: change.accountId } });
        const account = await tx.account.update({ where: { id: change.accountId }, data: { email: change.newEmail } });
        await enqueueEmail(tx, {
          to: before.email,
          subject: 'Your Agora email has changed',
          body: `Hello ${account.firstName},\n\nThe email of your Agora account is now ${account.email}. If you did not ask for this, contact us at once.\n`,
        });
        return account;
      });
    } catch (error) {
      if (isUniqueViolation(error, 'email')) {
        return fail(requestError('TAKEN', 'An account with this email already exists.'));
      }
      throw error;
    }
  }

  async createAddress(accountId: string, input: AddressInput, setAsDefault: boolean): Promise<Outcome<Address>> {
    const parsed = addressFields.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues).map(underAddress));
    return this.prisma.$transaction(async (tx): Promise<Outcome<Address>> => {
      const limitReached = await addressLimitReached(tx, accountId);
      if (limitReached) return fail(limitReached);
      const address = await tx.address.create({ data: { ...parsed.data, accountId } });
      if (setAsDefault) await tx.account.update({ where: { id: accountId }, data: { defaultAddressId: address.id } });
      return succeed(address);
    });
  }

  /** Ownership is the rule's job (ownsAddressInput); here the address only has to exist. */
  async updateAddress(id: string, input: AddressInput): Promise<Outcome<Address>> {
    const parsed = addressFields.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues).map(underAddress));
    const { count } = await this.prisma.address.updateMany({ where: { id }, data: parsed.data });
    return count ? succeed(await this.prisma.address.findUniqueOrThrow({ where: { id } })) : addressNotFound();
  }

  async deleteAddress(id: string): Promise<Outcome<string>> {
    const { count } = await this.prisma.address.deleteMany({ where: { id } });
    return count ? succeed(id) : addressNotFound();
  }

  async setDefaultAddress(accountId: string, addressId: string): Promise<Outcome<Account>> {
    const { count } = await this.prisma.account.updateMany({
      where: { id: accountId, addresses: { some: { id: addressId } } },
      data: { defaultAddressId: addressId },
    });
    return count
      ? succeed(await this.prisma.account.findUniqueOrThrow({ where: { id: accountId } }))
      : addressNotFound();
  }

  /** Creates a staff account without a password and emails an invitation to set one. */
  async createStaff(input: Parameters<typeof staffFields.parse>[0]): Promise<Outcome<Account>> {
    const parsed = staffFields.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    try {
      return succeed(
        await this.prisma.$transaction(async (tx) => {
          const account = await tx.account.create({ data: parsed.data });
          await issueSetPasswordEmail(tx, account, INVITATION_TTL_MS, {
            subject: 'You have been invited to Agora',
            intro: `You have been given a ${account.role.toLowerCase()} account at Agora.`,
          });
          return account;
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error, 'email')) return emailTaken();
      throw error;
    }
  }

  async changeRole(admin: NonNullable<Viewer>, accountId: string, role: Role): Promise<Outcome<Account>> {
    if (accountId === admin.accountId) return notYourself('change the role of');
    return this.updateExisting(accountId, { role });
  }

  /** Disables an account and ends its sessions in one transaction: its access tokens fail from the next request. */
  async disable(admin: NonNullable<Viewer>, accountId: string): Promise<Outcome<Account>> {
    if (accountId === admin.accountId) return notYourself('disable');
    const account = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.account.updateMany({ where: { id: accountId }, data: { disabledAt: new Date() } });
      if (!count) return null;
      await this.sessions.revoke(tx, { accountId });
      return tx.account.findUniqueOrThrow({ where: { id: accountId } });
    });
    return account ? succeed(account) : accountNotFound();
  }

  enable(accountId: string): Promise<Outcome<Account>> {
    return this.updateExisting(accountId, { disabledAt: null });
  }

  /** Accounts newest first, as keyset pages. */
  list(args: PageArgs & { role?: Role | null }): Promise<Connection<Account>> {
    const where = args.role ? { role: args.role } : {};
    return newestFirst(args, {
      findMany: ({ idAfter, descending, take }) =>
        this.prisma.account.findMany({
          where: { ...where, ...(idAfter && { id: idAfter }) },
          orderBy: { id: descending ? 'desc' : 'asc' },
          take,
        }),
      count: () => this.prisma.account.count({ where }),
    });
  }

  private async updateExisting(id: string, data: { role?: Role; disabledAt?: null }): Promise<Outcome<Account>> {
    const { count } = await this.prisma.account.updateMany({ where: { id }, data });
    return count ? succeed(await this.prisma.account.findUniqueOrThrow({ where: { id } })) : accountNotFound();
  }
}

const underAddress = (error: ReturnType<typeof userError>) => ({
  ...error,
  field: error.field && ['input', 'address', ...error.field.slice(1)],
});
const addressNotFound = () => fail(userError(['id'], 'NOT_FOUND', 'No address with this ID.'));
const accountNotFound = () => fail(userError(['accountId'], 'NOT_FOUND', 'No account with this ID.'));
