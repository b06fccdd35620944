import { isPublic } from '../../auth/rules.js';
import type { RuleTree } from '../../graphql/permissions.js';

/** Fetching by ID is open to all; what comes back is guarded by the rules of its own type's fields. */
export const nodeRules: RuleTree = {
  Query: { node: isPublic, nodes: isPublic },
};
