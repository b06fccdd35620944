// Account fields: thin mappings onto the auth and account services and the account loaders.
import { grantOwner } from '../../auth/ownership.js';
import type { Resolvers } from '../../generated/graphql.js';
import type { Context } from '../../graphql/context.js';
import { databaseIdOrUnknown, toGlobalId } from '../../graphql/globalId.js';
import type { Outcome } from '../userErrors.js';
import type { SignedIn } from './authService.js';

const addressId = (id: string) => databaseIdOrUnknown(id, 'Address');
const accountId = (id: string) => databaseIdOrUnknown(id, 'Account');

/** The rules have already required a viewer for these fields. */
const viewerOf = (ctx: Context) => ctx.viewer!;

const withUserErrors = <T extends object>(outcome: Outcome<unknown>, fields: T) => ({
  ...fields,
  userErrors: outcome.userErrors,
});

/** Signing in does not change who the operation acts as: later fields are authorized for the viewer it started
 * with. Having proved to be the account, it may read what the account owns (the payload's account and cart). */
function signedIn(ctx: Context, outcome: Outcome<SignedIn>) {
  if (outcome.value) grantOwner(ctx, outcome.value.account.id);
  return withUserErrors(outcome, { account: outcome.value?.account ?? null, tokens: outcome.value?.tokens ?? null });
}

export const accountResolvers: Resolvers = {
  Query: {
    viewer: (_, __, ctx) => (ctx.viewer ? ctx.loaders.accountById.load(ctx.viewer.accountId) : null),
    accounts: (_, args, ctx) => ctx.accounts.list(args),
  },

  Mutation: {
    customerSignUp: async (_, { input }, ctx) => signedIn(ctx, await ctx.auth.signUp(input, ctx.clientAddress)),
    logIn: async (_, { input: { guestCartId, ...credentials } }, ctx) => {
      const payload = signedIn(ctx, await ctx.auth.logIn(credentials, ctx.clientAddress));
      const accountId = payload.account?.id;
      if (!accountId) return { ...payload, cart: null };
      const cart = guestCartId
        ? await ctx.carts.mergeGuestCart(accountId, databaseIdOrUnknown(guestCartId, 'Cart'))
        : await ctx.loaders.openCartByAccountId.load(accountId);
      return { ...payload, cart };
    },
    tokenRefresh: async (_, { input }, ctx) => {
      const tokens = await ctx.sessions.refresh(input.refreshToken);
      return {
        tokens,
        userErrors: tokens
          ? []
          : [{ field: ['input', 'refreshToken'], code: 'INVALID_TOKEN' as const, message: 'Sign in again.' }],
      };
    },
    logOut: async (_, { input }, ctx) => {
      const ended = await ctx.sessions.end(input.refreshToken, Boolean(input.everywhere));
      return {
        endedSessionCount: ended ?? 0,
        userErrors:
          ended === null
            ? [
                {
                  field: ['input', 'refreshToken'],
                  code: 'INVALID_TOKEN' as const,
                  message: 'This session has already ended.',
                },
              ]
            : [],
      };
    },
    customerUpdate: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.update(viewerOf(ctx).accountId, input);
      return withUserErrors(outcome, { account: outcome.value });
    },
    customerEmailChangeRequest: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.requestEmailChange(viewerOf(ctx), input, ctx.clientAddress);
      return withUserErrors(outcome, { account: outcome.value });
    },
    customerEmailChangeConfirm: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.confirmEmailChange(input.token);
      return withUserErrors(outcome, { success: outcome.value !== null });
    },
    passwordChange: async (_, { input }, ctx) => {
      const outcome = await ctx.auth.changePassword(viewerOf(ctx), input, ctx.clientAddress);
      return withUserErrors(outcome, { account: outcome.value });
    },
    passwordResetRequest: async (_, { input }, ctx) => {
      const outcome = await ctx.auth.requestPasswordReset(input.email, ctx.clientAddress);
      return { userErrors: outcome.userErrors };
    },
    passwordReset: async (_, { input }, ctx) => {
      const outcome = await ctx.auth.resetPassword(input);
      return withUserErrors(outcome, { success: outcome.value === true });
    },
    customerAddressCreate: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.createAddress(
        viewerOf(ctx).accountId,
        input.address,
        Boolean(input.setAsDefault),
      );
      return withUserErrors(outcome, { address: outcome.value });
    },
    customerAddressUpdate: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.updateAddress(addressId(input.id), input.address);
      return withUserErrors(outcome, { address: outcome.value });
    },
    customerAddressDelete: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.deleteAddress(addressId(input.id));
      return withUserErrors(outcome, { deletedAddressId: outcome.value && toGlobalId('Address', outcome.value) });
    },
    customerAddressSetDefault: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.setDefaultAddress(viewerOf(ctx).accountId, addressId(input.id));
      return withUserErrors(outcome, { account: outcome.value });
    },
    staffCreate: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.createStaff(input);
      return withUserErrors(outcome, { account: outcome.value });
    },
    accountRoleUpdate: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.changeRole(viewerOf(ctx), accountId(input.accountId), input.role);
      return withUserErrors(outcome, { account: outcome.value });
    },
    accountDisable: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.disable(viewerOf(ctx), accountId(input.accountId));
      return withUserErrors(outcome, { account: outcome.value });
    },
    accountEnable: async (_, { input }, ctx) => {
      const outcome = await ctx.accounts.enable(accountId(input.accountId));
      return withUserErrors(outcome, { account: outcome.value });
    },
  },

  Account: {
    id: (account) => toGlobalId('Account', account.id),
    disabled: (account) => account.disabledAt !== null,
    addresses: (account, _, ctx) => ctx.loaders.addressesByAccountId.load(account.id),
    // The default is one of the account's addresses: found in the batch that loads them all.
    defaultAddress: async (account, _, ctx) =>
      (await ctx.loaders.addressesByAccountId.load(account.id)).find(({ id }) => id === account.defaultAddressId) ??
      null,
  },

  Address: {
    id: (address) => toGlobalId('Address', address.id),
  },
};
