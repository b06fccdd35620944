// docs/permissions.md: every field of every object type with the rule that guards it, for auditing access at a
// glance. Generated from the schema and `ruleTree`; `npm run check:permissions-doc` fails when it is stale.
import { fileURLToPath } from 'node:url';
import { isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { allow } from 'graphql-shield';
import { ruleTree, type RuleTree } from './permissions.js';
import { createBareSchema } from './schema.js';

export const permissionsDocPath = fileURLToPath(new URL('../../docs/permissions.md', import.meta.url));

/** What each named rule lets through, in one line. A rule missing here fails the generator, so it gets documented. */
export const RULE_MEANINGS: Readonly<Record<string, string>> = {
  isPublic: 'anyone, signed in or not',
  isAuthenticated: 'any signed-in account',
  isStaff: 'STAFF or ADMIN',
  isAdmin: 'ADMIN',
  'ownerOrStaff(Account)': 'the account itself, or staff',
  'ownerOrStaff(Address)': "the address's owner, or staff",
  'ownerOrStaff(Cart)': "the cart's customer, or staff; a guest cart, whoever holds its ID",
  'ownerOrStaff(CartLine)': "as `ownerOrStaff(Cart)` for the line's cart (loaded by `cartById`)",
  'ownerOrStaff(Order)':
    "the order's customer, or staff; or a caller who proved it in this operation (`orderByNumber` with its email, the checkout of a guest cart, signing in as its customer)",
  'ownerOrStaff(OrderLine)': "as `ownerOrStaff(Order)` for the line's order (loaded by `orderById`)",
  'ownerOrStaff(Fulfillment)': "as `ownerOrStaff(Order)` for the shipment's order (loaded by `orderById`)",
  'ownerOrStaff(FulfillmentLine)':
    "as `ownerOrStaff(Order)` for the order of the line's order line (`orderLineById`, then `orderById`)",
  'ownerOrStaff(OrderEvent)': "as `ownerOrStaff(Order)` for the event's order (loaded by `orderById`)",
  'ownerOrStaff(part)':
    'as the owner-or-staff rule of the cart or order this value is part of (its cost, address, buyer or payment); denied when it is part of none',
  ownsAddressInput: 'the address named by `input.id` belongs to the viewer',
  holdsCartInput:
    "the cart named by `input.cartId` is a guest cart, or the viewer's, or the viewer is staff (as `ownerOrStaff(Cart)`, loaded by `cartById`)",
  holdsCartArgument: 'as `holdsCartInput`, for the cart named by `id`; an unknown cart answers null',
  viewsOrderArgument:
    'as `ownerOrStaff(Order)`, for the order named by `id` (loaded by `orderById`); an unknown order answers null',
  viewsOrderIdArgument:
    "as `ownerOrStaff(Order)`, for the order named by `orderId`; an unknown order is refused like another's",
};

const NO_RULE = '**deny (no rule)**';

type Rule = RuleTree[string][string];

/** The rule's name as the legend knows it: graphql-shield's `allow` is `isPublic`; others carry their own name. */
export function ruleName(rule: Rule): string | undefined {
  if (rule === allow) return 'isPublic';
  return 'name' in rule && typeof rule.name === 'string' ? rule.name : undefined;
}

/** The first sentence of a description, on one line. */
export function firstSentence(description: string | null | undefined): string {
  const text = (description ?? '').replace(/\s+/g, ' ').trim();
  // A sentence ends at . ! or ? followed by a space, outside `code`.
  let inCode = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '`') inCode = !inCode;
    else if (!inCode && (char === '.' || char === '!' || char === '?') && text[i + 1] === ' ') {
      return text.slice(0, i + 1);
    }
  }
  return text;
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

/** Prettier's column width for plain text; wide (East Asian, emoji) characters count twice there. */
const widthOf = (text: string) =>
  [...text].reduce(
    (width, char) =>
      width + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\u{1f300}-\u{1faff}]/u.test(char) ? 2 : 1),
    0,
  );

/** A Markdown table with padded columns, laid out as Prettier lays it out, so `prettier --check` accepts the file. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(3, widthOf(cell), ...rows.map((row) => widthOf(row[column]!))));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat(widths[column]! - widthOf(cell))).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

/** Root types first (Query, Mutation, Subscription), then the rest alphabetically. */
function objectTypesOf(schema: GraphQLSchema): GraphQLObjectType[] {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
    (type): type is GraphQLObjectType => Boolean(type),
  );
  const others = Object.values(schema.getTypeMap())
    .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'))
    .filter((type) => !roots.includes(type))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...roots, ...others];
}

/** The whole document. Throws when the tree holds a rule the legend does not explain. */
export function renderPermissionsDoc(schema: GraphQLSchema = createBareSchema(), tree: RuleTree = ruleTree): string {
  const undocumented = Object.entries(tree).flatMap(([type, fields]) =>
    Object.entries(fields)
      .filter(([, rule]) => {
        const name = ruleName(rule);
        return name === undefined || !Object.hasOwn(RULE_MEANINGS, name);
      })
      .map(([field, rule]) => `${type}.${field} (${ruleName(rule) ?? 'unnamed rule'})`),
  );
  if (undocumented.length) {
    throw new Error(
      `Rules missing from the permissions legend (add them to RULE_MEANINGS in src/graphql/permissionsDoc.ts):\n  ` +
        undocumented.join('\n  '),
    );
  }

  const lines = [
    '# Permissions',
    '',
    'Generated from the schema in `schema/` and the rules in `src/graphql/permissions.ts`: do not edit by hand.',
    'Regenerate with `npm run docs:permissions`; CI fails when this file is stale (`npm run check:permissions-doc`).',
    '',
    'Every field of every object type, with the rule checked before it resolves. Fields of objects reached through',
    'another field keep their own rules.',
    '',
    '## Rules',
    '',
    ...Object.entries(RULE_MEANINGS).map(([name, meaning]) => `- \`${name}\`: ${meaning}.`),
    `- ${NO_RULE}: no rule names the field, so it is denied to everyone.`,
  ];

  for (const type of objectTypesOf(schema)) {
    const rows = Object.values(type.getFields()).map((field) => {
      const rule = tree[type.name]?.[field.name];
      return [
        `\`${field.name}\``,
        rule ? `\`${ruleName(rule)}\`` : NO_RULE,
        escapeCell(firstSentence(field.description)),
      ];
    });
    lines.push('', `## ${type.name}`, '');
    const about = firstSentence(type.description);
    if (about) lines.push(about, '');
    lines.push(...table(['field', 'rule', 'description'], rows));
  }
  return lines.join('\n') + '\n';
}
