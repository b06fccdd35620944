// Limits on the shape of a document, checked while validating it and so before anything executes.
import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type ASTVisitor,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export interface DocumentLimits {
  depth: number;
  aliases: number;
  directives: number;
  length: number;
  mutations: number;
}

/** Error codes of the limits, each answered with `extensions.maximum` (and `found` where it is known). */
export const LIMIT_CODES = [
  'DEPTH_LIMIT_EXCEEDED',
  'ALIAS_LIMIT_EXCEEDED',
  'DIRECTIVE_LIMIT_EXCEEDED',
  'TOKEN_LIMIT_EXCEEDED',
  'QUERY_TOO_LONG',
  'MUTATION_LIMIT_EXCEEDED',
] as const;
type LimitCode = (typeof LIMIT_CODES)[number];

export const limitExceeded = (code: LimitCode, message: string, maximum: number, found?: number) =>
  new GraphQLError(message, { extensions: { code, maximum, ...(found !== undefined && { found }) } });

/** GraphQL Armor's rules report through here, keeping their message ("… limit of 12 exceeded, found 15."). */
const armorOptions = (code: LimitCode, maximum: number) => ({
  n: maximum,
  exposeLimits: true,
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      const found = /found (\d+)/.exec(error.message)?.[1];
      const message = error.message.replace(/^Syntax Error: /, '');
      context?.reportError(limitExceeded(code, message, maximum, found === undefined ? undefined : Number(found)));
    },
  ],
});

const queryLength =
  (maximum: number): ValidationRule =>
  (context) => {
    const length = context.getDocument().loc?.source.body.length ?? 0;
    if (length > maximum) {
      context.reportError(
        limitExceeded(
          'QUERY_TOO_LONG',
          `The query is ${length} characters long, above the maximum of ${maximum}.`,
          maximum,
          length,
        ),
      );
    }
    return {};
  };

/** Root fields of each mutation, counted through fragments, so aliases cannot batch a hundred log-ins. */
const mutationCount =
  (maximum: number): ValidationRule =>
  (context): ASTVisitor => {
    const count = (selectionSet: SelectionSetNode, seen: Set<string>): number =>
      selectionSet.selections.reduce((total, selection) => {
        if (selection.kind === Kind.FIELD) return total + 1;
        if (selection.kind === Kind.INLINE_FRAGMENT) return total + count(selection.selectionSet, seen);
        const fragment = context.getFragment(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) return total;
        return total + count(fragment.selectionSet, new Set(seen).add(fragment.name.value));
      }, 0);
    return {
      OperationDefinition(operation) {
        if (operation.operation !== OperationTypeNode.MUTATION) return;
        const found = count(operation.selectionSet, new Set());
        if (found > maximum) {
          context.reportError(
            limitExceeded(
              'MUTATION_LIMIT_EXCEEDED',
              `The operation runs ${found} mutations, above the maximum of ${maximum}.`,
              maximum,
              found,
            ),
          );
        }
      },
    };
  };

export const documentLimitRules = (limits: DocumentLimits): ValidationRule[] => [
  queryLength(limits.length),
  maxDepthRule(armorOptions('DEPTH_LIMIT_EXCEEDED', limits.depth)),
  maxAliasesRule(armorOptions('ALIAS_LIMIT_EXCEEDED', limits.aliases)),
  maxDirectivesRule(armorOptions('DIRECTIVE_LIMIT_EXCEEDED', limits.directives)),
  mutationCount(limits.mutations),
];

/**
 * graphql-js stops parsing at `maxTokens` with a syntax error; this turns that error into TOKEN_LIMIT_EXCEEDED.
 * The message is graphql-js's own ("Document contains more that N tokens", sic), stable across graphql 16.
 */
export function tokenLimitError(error: GraphQLError, maximum: number): GraphQLError | null {
  if (!/Document contains more th\w+ \d+ tokens/.test(error.message)) return null;
  return limitExceeded(
    'TOKEN_LIMIT_EXCEEDED',
    `The query has more than ${maximum} tokens, the maximum; parsing stopped there.`,
    maximum,
  );
}

/** Validation errors reported for one document; graphql-js stops there with a "Validation aborted" error of its own.
 * A document of unknown directives or fields is answered in a few lines, not one line per attempt. */
export const MAX_VALIDATION_ERRORS = 5;

const LIMIT_CODE_SET = new Set<string>(LIMIT_CODES);

/** A document refused by a limit is answered with the limit's refusal alone: the other errors its validation found
 * (one per unknown directive, say) would only echo the attack back. */
export const limitRefusalsAlone: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const { body } = response;
        if (body?.kind !== 'single' || !body.singleResult.errors) return;
        const { errors } = body.singleResult;
        const limits = errors.filter((error) => LIMIT_CODE_SET.has(String(error.extensions?.code)));
        if (limits.length > 0 && limits.length < errors.length) body.singleResult.errors = limits;
      },
    };
  },
};
