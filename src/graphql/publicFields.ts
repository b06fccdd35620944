// graphql-shield runs every field through an async middleware, even where the rule is `allow`: three promises per
// field, which on a 50-product page is most of the server's work. A field whose rule always allows needs no rule
// evaluated, so it gets its own resolver back: the default property read, or the module's resolver with its errors
// still routed through the shield's error handling. Every other field keeps the shield.
import { isObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { allow } from 'graphql-shield';
import type { Context } from './context.js';
import type { RuleTree } from './permissions.js';

/** What the shield does with an error thrown below a field; a returned error is the field's error. */
export type ResolverErrorHandler = (thrown: unknown, context: Context, info: GraphQLResolveInfo) => Error;

type Resolver = GraphQLFieldResolver<unknown, Context>;

const isPromiseLike = (value: unknown): value is Promise<unknown> =>
  typeof (value as Promise<unknown> | null)?.then === 'function';

/** The module's resolver, with what it throws or rejects with handled as the shield would. */
function guarded(resolve: Resolver, onError: ResolverErrorHandler): Resolver {
  return (parent, args, context, info) => {
    try {
      const result = resolve(parent, args, context, info);
      return isPromiseLike(result) ? result.then(undefined, (error: unknown) => onError(error, context, info)) : result;
    } catch (error) {
      return onError(error, context, info);
    }
  };
}

/** The resolvers of `bare` (before the shield), to give back to the public fields of the shielded schema. */
export function publicFieldResolvers(bare: GraphQLSchema, rules: RuleTree, onError: ResolverErrorHandler) {
  const resolvers = new Map<string, Resolver | undefined>();
  for (const [typeName, fields] of Object.entries(rules)) {
    const type = bare.getType(typeName);
    if (!isObjectType(type)) continue;
    for (const [fieldName, rule] of Object.entries(fields)) {
      const field = type.getFields()[fieldName];
      if (rule !== allow || !field) continue;
      const resolve = field.resolve as Resolver | undefined;
      resolvers.set(`${typeName}.${fieldName}`, resolve && guarded(resolve, onError));
    }
  }
  return (shielded: GraphQLSchema): GraphQLSchema => {
    for (const [coordinate, resolve] of resolvers) {
      const [typeName, fieldName] = coordinate.split('.') as [string, string];
      const type = shielded.getType(typeName);
      if (isObjectType(type)) type.getFields()[fieldName]!.resolve = resolve;
    }
    return shielded;
  };
}
