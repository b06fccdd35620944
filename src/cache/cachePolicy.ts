// The cache policy of an operation from the `@cacheControl` hints in the SDL, worked out once per document rather
// than field by field as Apollo's cache control plugin does (a per-field hook on every resolved field, most of a
// cache miss's bookkeeping). The rules are Apollo's: a field takes its type's hint, then its own; a root field, or a
// field returning an object, without a maxAge is not cacheable unless it inherits its parent's; PRIVATE anywhere
// makes the response PRIVATE. Worked out from the document, every selected field counts, including those a null
// parent or an empty list would leave unresolved: the policy is never looser than Apollo's. Resolvers whose hint
// depends on their arguments restrict it further with restrictCachePolicy.
import type { ApolloServerPlugin } from '@apollo/server';
import type { CacheHint, CachePolicy, CacheScope } from '@apollo/cache-control-types';
import {
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  type ASTNode,
  type DirectiveNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Context } from '../graphql/context.js';

interface Annotation extends CacheHint {
  inheritMaxAge?: boolean;
}

/** A hint under construction, with CachePolicy's replace and restrict. */
class Hint implements CacheHint {
  maxAge?: number;
  scope?: CacheScope;
  replace(hint: CacheHint) {
    if (hint.maxAge !== undefined) this.maxAge = hint.maxAge;
    if (hint.scope !== undefined) this.scope = hint.scope;
  }
  restrict(hint: CacheHint) {
    if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge)) {
      this.maxAge = hint.maxAge;
    }
    if (hint.scope !== undefined && this.scope !== 'PRIVATE') this.scope = hint.scope;
  }
}

type Annotated = { astNode?: Maybe<ASTNode & { directives?: readonly DirectiveNode[] }> } & {
  extensionASTNodes?: readonly (ASTNode & { directives?: readonly DirectiveNode[] })[];
};
type Maybe<T> = T | null | undefined;

/** The hints of one schema: each type's and field's annotation read once. */
export class CachePolicies {
  private readonly directive: GraphQLDirective | undefined;
  private readonly annotations = new WeakMap<object, Annotation>();
  private readonly operations = new WeakMap<OperationDefinitionNode, CacheHint>();

  constructor(private readonly schema: GraphQLSchema) {
    this.directive = schema.getDirective('cacheControl') ?? undefined;
  }

  /** The policy of `operation` (of a document whose fragments are `fragments`), computed once per operation node. */
  of(operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): CacheHint {
    let hint = this.operations.get(operation);
    if (!hint) {
      const root = this.schema.getRootType(operation.operation);
      const overall = new Hint();
      if (root) this.walk(operation.selectionSet, [root], true, fragments, overall, new Set());
      hint = { maxAge: overall.maxAge, scope: overall.scope };
      this.operations.set(operation, hint);
    }
    return hint;
  }

  private walk(
    selectionSet: SelectionSetNode,
    parents: readonly GraphQLObjectType[],
    root: boolean,
    fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    overall: Hint,
    spread: Set<string>,
  ): void {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        for (const parent of parents) {
          const field = parent.getFields()[selection.name.value];
          if (!field) continue; // __typename, or a field of another possible type
          overall.restrict(this.fieldHint(field, root));
          const target = getNamedType(field.type);
          if (selection.selectionSet && isCompositeType(target)) {
            this.walk(selection.selectionSet, this.objectTypes(target), false, fragments, overall, spread);
          }
        }
        continue;
      }
      let fragment: { typeCondition?: { name: { value: string } }; selectionSet: SelectionSetNode } | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) fragment = selection;
      else {
        // A fragment spread twice in the same place adds nothing the first walk did not (validation refuses cycles).
        const place = `${selection.name.value}|${root}|${parents.map((parent) => parent.name).join(',')}`;
        if (!spread.has(place)) fragment = fragments.get(selection.name.value);
        spread.add(place);
      }
      if (!fragment) continue;
      const condition = fragment.typeCondition && this.schema.getType(fragment.typeCondition.name.value);
      const matching =
        condition && isCompositeType(condition)
          ? parents.filter((parent) => this.objectTypes(condition).includes(parent))
          : parents;
      this.walk(fragment.selectionSet, matching, root, fragments, overall, spread);
    }
  }

  private objectTypes(type: GraphQLCompositeType): readonly GraphQLObjectType[] {
    if (isObjectType(type)) return [type];
    return isAbstractType(type) ? this.schema.getPossibleTypes(type) : [];
  }

  /** Apollo's rule for one field (plugin/cacheControl in @apollo/server). */
  private fieldHint(field: GraphQLField<unknown, unknown>, root: boolean): CacheHint {
    const hint = new Hint();
    const target = getNamedType(field.type);
    let inheritMaxAge = false;
    if (isCompositeType(target)) {
      const typeAnnotation = this.annotation(target);
      hint.replace(typeAnnotation);
      inheritMaxAge = Boolean(typeAnnotation.inheritMaxAge);
    }
    const fieldAnnotation = this.annotation(field);
    if (fieldAnnotation.inheritMaxAge && hint.maxAge === undefined) {
      inheritMaxAge = true;
      if (fieldAnnotation.scope) hint.replace({ scope: fieldAnnotation.scope });
    } else {
      hint.replace(fieldAnnotation);
    }
    if (hint.maxAge === undefined && ((isCompositeType(target) && !inheritMaxAge) || root)) {
      hint.restrict({ maxAge: 0 });
    }
    return hint;
  }

  private annotation(element: Annotated): Annotation {
    let annotation = this.annotations.get(element);
    if (!annotation) {
      annotation = {};
      const nodes = [element.astNode, ...(element.extensionASTNodes ?? [])];
      for (const node of nodes) {
        const values = node && this.directive && getDirectiveValues(this.directive, node);
        if (values) {
          annotation = values.inheritMaxAge
            ? { inheritMaxAge: true, scope: values.scope as CacheScope | undefined }
            : { maxAge: values.maxAge as number | undefined, scope: values.scope as CacheScope | undefined };
          break;
        }
      }
      this.annotations.set(element, annotation);
    }
    return annotation;
  }
}

const policies = new WeakMap<Context, CachePolicy>();

/** Narrows the response's cache policy from a resolver, for a hint that depends on the field's arguments. */
export function restrictCachePolicy(context: Context, hint: CacheHint): void {
  policies.get(context)?.restrict(hint);
}

const UNCACHEABLE = 'no-store';

/** Sets each operation's policy from the SDL, and the Cache-Control header from the policy, as Apollo's plugin does
 * (which the server disables). */
export function cacheControl(schema: GraphQLSchema): ApolloServerPlugin<Context> {
  const hints = new CachePolicies(schema);
  return {
    async requestDidStart({ contextValue, overallCachePolicy }) {
      policies.set(contextValue, overallCachePolicy);
      return {
        async didResolveOperation({ operation, document, overallCachePolicy }) {
          if (operation) overallCachePolicy.restrict(hints.of(operation, fragmentsOf(document)));
        },
        async willSendResponse({ response, overallCachePolicy }) {
          const cacheable = overallCachePolicy.policyIfCacheable();
          const clean = response.body.kind === 'single' && !response.body.singleResult.errors;
          if (response.http.headers.get('cache-control') === UNCACHEABLE) return;
          response.http.headers.set(
            'cache-control',
            cacheable && clean ? `max-age=${cacheable.maxAge}, ${cacheable.scope.toLowerCase()}` : UNCACHEABLE,
          );
        },
      };
    },
  };
}

const fragmentMaps = new WeakMap<object, ReadonlyMap<string, FragmentDefinitionNode>>();
function fragmentsOf(document: {
  definitions: readonly { kind: Kind }[];
}): ReadonlyMap<string, FragmentDefinitionNode> {
  let fragments = fragmentMaps.get(document);
  if (!fragments) {
    fragments = new Map(
      document.definitions
        .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((definition) => [definition.name.value, definition]),
    );
    fragmentMaps.set(document, fragments);
  }
  return fragments;
}
