// An account's own details and addresses, and what admins do to accounts.
import type { Account, Address, PrismaClient, Role } from '../../generated/prisma/client.js';
import type { Viewer } from '../../auth/viewer.js';
import { newestFirst, type Connection, type PageArgs } from '../../graphql/connection.js';
import { fail, fromZodIssues, isUniqueViolation, succeed, userError, type Outcome } from '../userErrors.js';
import { INVITATION_TTL_MS, issueSetPasswordEmail } from './authService.js';
import { addressLimitReached } from './addressLimit.js';
import type { Sessions } from './sessions.js';
import { accountChanges, addressFields, staffFields } from './validation.js';

type AddressInput = Parameters<typeof addressFields.parse>[0];

const emailTaken = () => fail(userError(['email'], 'TAKEN', 'An account with this email already exists.'));
const notYourself = (action: string) =>
  fail(userError(['accountId'], 'CONFLICT', `Admins cannot ${action} their own account; ask another admin.`));

export class AccountService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sessions: Sessions,
  ) {}

  async update(accountId: string, input: Parameters<typeof accountChanges.parse>[0]): Promise<Outcome<Account>> {
    const parsed = accountChanges.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    try {
      return succeed(await this.prisma.account.update({ where: { id: accountId }, data: parsed.data }));
    } catch (error) {
      if (isUniqueViolation(error, 'email')) return emailTaken();
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
