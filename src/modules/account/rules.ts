// Who may see and change accounts and addresses: the owner and staff; account management is for admins.
import { rule } from 'graphql-shield';
import type { Account, Address } from '../../generated/prisma/client.js';
import { mayView, ownerOrStaff, type Owned } from '../../auth/ownership.js';
import { eachField, isAdmin, isAuthenticated, isPublic, isStaff } from '../../auth/rules.js';
import type { Context } from '../../graphql/context.js';
import { databaseIdOf } from '../../graphql/globalId.js';
import { forbidden, unauthenticated } from '../../graphql/errors.js';
import type { RuleTree } from '../../graphql/permissions.js';

/** An account is its own owner. */
export const ownedAccount = (account: Pick<Account, 'id'>): Owned => ({
  kind: 'Account',
  id: account.id,
  accountId: account.id,
  openWhenUnowned: false,
});

export const ownedAddress = (address: Pick<Address, 'id' | 'accountId'>): Owned => ({
  kind: 'Address',
  id: address.id,
  accountId: address.accountId,
  openWhenUnowned: false,
});

/** Whether the viewer may see `account`: it is their own, or they are staff. Also used by node(id:). */
export const canViewAccount = (ctx: Context, account: Pick<Account, 'id'>): boolean =>
  mayView(ctx, ownedAccount(account));

/** Whether the viewer may see `address`: it is on their account, or they are staff. Also used by node(id:). */
export const canViewAddress = (ctx: Context, address: Pick<Address, 'id' | 'accountId'>): boolean =>
  mayView(ctx, ownedAddress(address));

const ownerOfAccount = ownerOrStaff<Account>('Account', ownedAccount);
const ownerOfAddress = ownerOrStaff<Address>('Address', ownedAddress);

/** For mutations on `input.id`: the address must be the viewer's own (staff included: these are customer
 * mutations). An unknown address passes, for the mutation to report as NOT_FOUND. Loaded through the request's
 * DataLoader. */
export const ownsAddressInput = rule('ownsAddressInput', { cache: 'strict' })(async (
  _parent,
  args: { input: { id: string } },
  ctx: Context,
) => {
  if (!ctx.viewer) return unauthenticated();
  const id = databaseIdOf(args.input.id, 'Address');
  const address = id && (await ctx.loaders.addressById.load(id));
  return !address || address.accountId === ctx.viewer.accountId ? true : forbidden();
});

export const accountRules: RuleTree = {
  Query: { viewer: isPublic, accounts: isStaff },
  Mutation: {
    customerSignUp: isPublic,
    logIn: isPublic,
    tokenRefresh: isPublic,
    logOut: isPublic,
    customerUpdate: isAuthenticated,
    customerEmailChangeRequest: isAuthenticated,
    customerEmailChangeConfirm: isPublic,
    passwordChange: isAuthenticated,
    passwordResetRequest: isPublic,
    passwordReset: isPublic,
    customerAddressCreate: isAuthenticated,
    customerAddressUpdate: ownsAddressInput,
    customerAddressDelete: ownsAddressInput,
    customerAddressSetDefault: ownsAddressInput,
    staffCreate: isAdmin,
    accountRoleUpdate: isAdmin,
    accountDisable: isAdmin,
    accountEnable: isAdmin,
  },
  Account: eachField(ownerOfAccount, [
    'id',
    'email',
    'firstName',
    'lastName',
    'role',
    'disabled',
    'createdAt',
    'addresses',
    'defaultAddress',
    'cart',
    'orders',
  ]),
  Address: eachField(ownerOfAddress, [
    'id',
    'firstName',
    'lastName',
    'company',
    'line1',
    'line2',
    'city',
    'province',
    'postalCode',
    'countryCode',
    'phone',
  ]),
  AuthTokens: {
    accessToken: isPublic,
    accessTokenExpiresAt: isPublic,
    refreshToken: isPublic,
    refreshTokenExpiresAt: isPublic,
  },
  AccountConnection: { edges: isStaff, nodes: isStaff, pageInfo: isStaff, totalCount: isStaff },
  AccountEdge: { cursor: isStaff, node: isStaff },
  // Payloads: whoever could run the mutation may read its result; the objects inside keep their own rules. The
  // account (and cart) of customerSignUp and logIn are readable because the operation proved it is that account
  // (grantOwner in resolvers.ts); the operation still acts as the viewer it started with.
  CustomerSignUpPayload: { account: isPublic, tokens: isPublic, userErrors: isPublic },
  LogInPayload: { account: isPublic, cart: isPublic, tokens: isPublic, userErrors: isPublic },
  TokenRefreshPayload: { tokens: isPublic, userErrors: isPublic },
  LogOutPayload: { endedSessionCount: isPublic, userErrors: isPublic },
  CustomerUpdatePayload: { account: isPublic, userErrors: isPublic },
  CustomerEmailChangeRequestPayload: { account: isPublic, userErrors: isPublic },
  CustomerEmailChangeConfirmPayload: { success: isPublic, userErrors: isPublic },
  PasswordChangePayload: { account: isPublic, userErrors: isPublic },
  PasswordResetRequestPayload: { userErrors: isPublic },
  PasswordResetPayload: { success: isPublic, userErrors: isPublic },
  CustomerAddressCreatePayload: { address: isPublic, userErrors: isPublic },
  CustomerAddressUpdatePayload: { address: isPublic, userErrors: isPublic },
  CustomerAddressDeletePayload: { deletedAddressId: isPublic, userErrors: isPublic },
  CustomerAddressSetDefaultPayload: { account: isPublic, userErrors: isPublic },
  StaffCreatePayload: { account: isPublic, userErrors: isPublic },
  AccountRoleUpdatePayload: { account: isPublic, userErrors: isPublic },
  AccountDisablePayload: { account: isPublic, userErrors: isPublic },
  AccountEnablePayload: { account: isPublic, userErrors: isPublic },
};
