// The named graphql-shield rules every module builds its permissions from.
import { allow, rule } from 'graphql-shield';
import type { Context } from '../graphql/context.js';
import { forbidden, unauthenticated } from '../graphql/errors.js';
import { isStaffRole } from './viewer.js';

/** Anyone, signed in or not. */
export const isPublic = allow;

/** The same rule for each of these fields of a type, still named one by one so each stays explicit. */
export const eachField = <F extends string, R>(rule: R, fields: F[]): Record<F, R> =>
  Object.fromEntries(fields.map((field) => [field, rule])) as Record<F, R>;

export const isAuthenticated = rule('isAuthenticated', { cache: 'contextual' })((_parent, _args, ctx: Context) =>
  ctx.viewer ? true : unauthenticated(),
);

export const isStaff = rule('isStaff', { cache: 'contextual' })((_parent, _args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  return isStaffRole(ctx.viewer.role) ? true : forbidden();
});

export const isAdmin = rule('isAdmin', { cache: 'contextual' })((_parent, _args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  return ctx.viewer.role === 'ADMIN' ? true : forbidden();
});
