import { isPublic } from '../auth/rules.js';
import type { RuleTree } from './permissions.js';

/** Types from schema/base.graphql that only ever appear inside fields guarded elsewhere. */
export const sharedTypeRules: RuleTree = {
  PageInfo: { hasNextPage: isPublic, hasPreviousPage: isPublic, startCursor: isPublic, endCursor: isPublic },
  Money: { amount: isPublic, currencyCode: isPublic },
  UserError: { field: isPublic, message: isPublic, code: isPublic },
};
