// Every field's authorization rule, gathered from the modules. Anything not listed is denied.
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { allow, and, deny, shield, type IRule } from 'graphql-shield';
import { accountRules } from '../modules/account/rules.js';
import { auditRules } from '../modules/audit/rules.js';
import { cartRules } from '../modules/cart/rules.js';
import { catalogRules } from '../modules/catalog/rules.js';
import { inventoryRules } from '../modules/inventory/rules.js';
import { nodeRules } from '../modules/node/rules.js';
import { orderRules } from '../modules/order/rules.js';
import { paymentRules } from '../modules/payment/rules.js';
import { sharedTypeRules } from './sharedRules.js';
import type { Context } from './context.js';
import { isStatementCancelled } from '../db/client.js';
import { forbidden, isPublicError, unauthenticated } from './errors.js';
import { operationTimeout } from './protection/executionTimeout.js';

export type RuleTree = Record<string, Record<string, IRule | typeof allow>>;

/** A rule or a composition of rules (and, or, chain, ...), as graphql-shield takes them. */
type ShieldRule = Parameters<typeof and>[number];

function mergeRuleTrees(trees: RuleTree[]): RuleTree {
  const merged: RuleTree = {};
  for (const tree of trees) {
    for (const [type, fields] of Object.entries(tree)) {
      for (const field of Object.keys(fields)) {
        if (merged[type]?.[field]) throw new Error(`Two rules for ${type}.${field}`);
      }
      merged[type] = { ...merged[type], ...fields };
    }
  }
  return merged;
}

export const ruleTree: RuleTree = mergeRuleTrees([
  sharedTypeRules,
  nodeRules,
  catalogRules,
  accountRules,
  inventoryRules,
  cartRules,
  orderRules,
  paymentRules,
  auditRules,
]);

/** A denial (thrown = null) or any error thrown below a field. Errors meant for clients keep their code; anything
 * else is logged and answered as an internal error. */
export const resolverError = (thrown: unknown, ctx: Context, info: GraphQLResolveInfo): GraphQLError => {
  if (thrown === null) return ctx.viewer ? forbidden() : unauthenticated();
  if (isPublicError(thrown)) return thrown;
  if (isStatementCancelled(thrown)) {
    ctx.logger.warn({ field: `${info.parentType.name}.${info.fieldName}` }, 'statement_timeout cancelled a query');
    return operationTimeout();
  }
  ctx.logger.error({ err: thrown, field: `${info.parentType.name}.${info.fieldName}` }, 'resolver failed');
  return new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
};

/**
 * A field's rule, with whatever a rule inside it throws passed on rather than taken for a denial. graphql-shield's
 * Rule.resolve catches what its function throws and answers `false` unless `debug` is on, so a database failure
 * while a rule loads the order it checks would answer UNAUTHENTICATED or FORBIDDEN, and under `not` would even
 * allow. Run with `debug`, a rule rethrows, and every composition (and, or, chain, race, not) passes that on, up to
 * the field's middleware, which hands it to `fallbackError`: resolverError, as for an error thrown by a resolver.
 * Only the rules see `debug`; the middleware keeps its own options, so what it catches is still mapped, not thrown.
 */
function passingOnErrors(fieldRule: ShieldRule): ShieldRule {
  if (fieldRule === allow || fieldRule === deny) return fieldRule; // nothing to throw
  const guarded = and(fieldRule);
  const resolve = guarded.resolve.bind(guarded);
  guarded.resolve = (parent, args, ctx, info, options) => resolve(parent, args, ctx, info, { ...options, debug: true });
  return guarded;
}

/** The shield over `tree`: deny by default; errors thrown by rules and resolvers alike answered by resolverError. */
export const createPermissions = (tree: Record<string, Record<string, ShieldRule>>) =>
  shield(
    Object.fromEntries(
      Object.entries(tree).map(([type, fields]) => [
        type,
        Object.fromEntries(Object.entries(fields).map(([field, fieldRule]) => [field, passingOnErrors(fieldRule)])),
      ]),
    ),
    {
      fallbackRule: deny,
      allowExternalErrors: false,
      fallbackError: (thrown, _parent, _args, ctx, info) => resolverError(thrown, ctx as unknown as Context, info),
    },
  );

export const permissions = createPermissions(ruleTree);
