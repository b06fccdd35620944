// The one object-level rule: an object that belongs to a customer is theirs and staff's to see. Each type that
// carries personal data says how to find the object's owner (often through a DataLoader); the rule decides once per
// object and request, whatever number of its fields or aliases are read.
import { rule, type IRule } from 'graphql-shield';
import type { Context } from '../graphql/context.js';
import { forbidden, unauthenticated } from '../graphql/errors.js';
import { isStaffRole } from './viewer.js';

/** What the decision needs to know about an object: what it is, and whose. */
export interface Owned {
  kind: string;
  id: string;
  /** The owning account, or null for an object nobody signed in owns (a guest's cart or order). */
  accountId: string | null;
  /** Whether an object without an owner is open to whoever reached it (a guest cart: its ID is its key). */
  openWhenUnowned: boolean;
}

interface Grants {
  owners: Set<string>;
  objects: Set<string>;
}

/** Per request (keyed by the context the operation runs with), what it has proved beyond who its viewer is. */
const grantsByRequest = new WeakMap<object, Grants>();

function grantsOf(ctx: Context): Grants {
  let grants = grantsByRequest.get(ctx);
  if (!grants) grantsByRequest.set(ctx, (grants = { owners: new Set(), objects: new Set() }));
  return grants;
}

/** The operation proved it is this account (its password, or it just created it): it may read what the account
 * owns for the rest of the operation. It gains no right to act as the account: mutations are still authorized by
 * the viewer the operation started with. */
export const grantOwner = (ctx: Context, accountId: string): void => void grantsOf(ctx).owners.add(accountId);

/** The operation proved it may see this one object without being its owner: an order's number with its email, or
 * the guest cart an order was placed from. */
export const grantObject = (ctx: Context, kind: string, id: string): void =>
  void grantsOf(ctx).objects.add(`${kind}:${id}`);

/** Whether the viewer may act on `owned` (change it, check it out): staff always; its owner; and anyone for an
 * unowned object that is open by nature. What the operation proved since it started does not count here. */
export function mayAct(ctx: Context, owned: Owned): boolean {
  const { viewer } = ctx;
  if (viewer && isStaffRole(viewer.role)) return true;
  if (owned.accountId === null) return owned.openWhenUnowned;
  return viewer?.accountId === owned.accountId;
}

/** Whether the viewer may see `owned`: whoever may act on it, an account the operation proved to be its owner,
 * and anyone the operation granted this object. */
export function mayView(ctx: Context, owned: Owned): boolean {
  if (mayAct(ctx, owned)) return true;
  const grants = grantsByRequest.get(ctx);
  if (!grants) return false;
  if (owned.accountId !== null && grants.owners.has(owned.accountId)) return true;
  return grants.objects.has(`${owned.kind}:${owned.id}`);
}

/** The error a refusal answers with: sign in, or you may not. */
export const refusal = (ctx: Context) => (ctx.viewer ? forbidden() : unauthenticated());

/** The object of a part (a cart's cost, an order's shipping address) that has no owner of its own. */
const wholes = new WeakMap<object, Owned>();

/** Marks `part` as belonging to the object described by `owner`, for `ownerOrStaff` on the part's type. */
export function partOf<T>(part: T, owner: Owned): T {
  if (part && typeof part === 'object') wholes.set(part, owner);
  return part;
}

/** The owner of a part `partOf` marked; a part nobody marked is nobody's to see. */
export const ownerOfPart = (part: object): Owned | null => wholes.get(part) ?? null;

type Decision = true | Error;
/** Per request and rule, the decision on each object (by identity): DataLoader hands out the same object each
 * time it is loaded, so aliases and repeated paths to it share one decision. */
const decisions = new WeakMap<object, WeakMap<IRule, WeakMap<object, Promise<Decision>>>>();

function decisionsOf(ctx: Context, ownRule: IRule): WeakMap<object, Promise<Decision>> {
  let byRule = decisions.get(ctx);
  if (!byRule) decisions.set(ctx, (byRule = new WeakMap()));
  let byObject = byRule.get(ownRule);
  if (!byObject) byRule.set(ownRule, (byObject = new WeakMap()));
  return byObject;
}

/** How to find what the object of type `T` is and whose: null when it cannot be found, which denies. */
export type Locate<T> = (parent: T, ctx: Context) => Owned | null | Promise<Owned | null>;

/**
 * The owner-or-staff rule for the fields of one type, named `ownerOrStaff(<type>)` in docs/permissions.md.
 * Put the same rule on every field of the type: the first field read decides for the object, the others reuse it.
 */
export function ownerOrStaff<T extends object>(typeName: string, locate: Locate<T>): IRule {
  const ownRule: IRule = rule(`ownerOrStaff(${typeName})`, { cache: 'no_cache' })((parent: T, _args, ctx: Context) => {
    const known = decisionsOf(ctx, ownRule);
    let decision = known.get(parent);
    if (!decision) {
      decision = Promise.resolve(locate(parent, ctx)).then((owned) =>
        owned && mayView(ctx, owned) ? true : refusal(ctx),
      );
      known.set(parent, decision);
    }
    return decision;
  });
  return ownRule;
}

/** For fields whose argument names the object: loads it (through a DataLoader) and checks it before the field
 * resolves, so that a refusal is the field's error. `to` is 'view' for reads and 'act' for mutations, which only
 * the operation's own viewer may authorize. An ID that finds nothing passes, for the field to answer null or
 * NOT_FOUND, unless `missing` is 'deny' (where telling "none" from "not yours" would reveal what exists). */
export function ownerOrStaffOfArgument<A>(
  name: string,
  find: (args: A, ctx: Context) => Promise<Owned | null>,
  { to, missing = 'pass' }: { to: 'view' | 'act'; missing?: 'pass' | 'deny' },
): IRule {
  const allowed = to === 'act' ? mayAct : mayView;
  return rule(name, { cache: 'no_cache' })(async (_parent, args: A, ctx: Context) => {
    const owned = await find(args, ctx);
    if (!owned) return missing === 'pass' ? true : refusal(ctx);
    return allowed(ctx, owned) ? true : refusal(ctx);
  });
}

/** The rule for types with no owner of their own, only ever parts of an owned object (a cart's cost, an order's
 * shipping address, its payment summary): the owner-or-staff decision of the object they were marked with
 * (`partOf`); an unmarked value is denied. */
export const ownerOfWhole = ownerOrStaff<object>('part', ownerOfPart);
