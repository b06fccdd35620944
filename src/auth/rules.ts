// The named graphql-shield rules every module builds its permissions from.
import { allow, rule } from 'graphql-shield';
import type { Context } from '../graphql/context.js';
import { forbidden, unauthenticated } from '../graphql/errors.js';
import { isStaffRole } from './viewer.js';

/** Anyone, signed in or not. */
export const isPublic = allow;

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
