import { readFileSync } from 'node:fs';
import { isObjectType, type GraphQLObjectType } from 'graphql';
import { rule } from 'graphql-shield';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { isPublic, isStaff } from '../auth/rules.js';
import { ruleTree } from './permissions.js';
import { firstSentence, permissionsDocPath, renderPermissionsDoc } from './permissionsDoc.js';
import { createBareSchema } from './schema.js';

const schema = createBareSchema();
const doc = renderPermissionsDoc(schema);
const objectTypes = Object.values(schema.getTypeMap()).filter(
  (type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'),
);

/** The table rows of a type's section, as [field, rule, description] without the Markdown around them. */
function rowsOf(markdown: string, typeName: string): string[][] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith(`${typeName}\n`));
  if (!section) return [];
  return section
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .slice(2) // header and delimiter
    .map((line) =>
      line
        .slice(2, -2)
        .split(/ (?<!\\)\| /)
        .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1')),
    );
}

const ruleOf = (typeName: string, field: string) => rowsOf(doc, typeName).find(([name]) => name === field)?.[1];

describe('docs/permissions.md', () => {
  it('is what renderPermissionsDoc() writes (run `npm run docs:permissions` after changing rules or schema)', () => {
    expect(readFileSync(permissionsDocPath, 'utf8')).toBe(doc);
  });

  it('is left alone by Prettier, which `npm run lint` runs over it', async () => {
    const options = await resolveConfig(permissionsDocPath);
    expect(await format(doc, { ...options, filepath: permissionsDocPath })).toBe(doc);
  });

  it('lists every field of every object type, in schema order, with its first description sentence', () => {
    for (const type of objectTypes) {
      const fields = Object.values(type.getFields());
      const rows = rowsOf(doc, type.name);
      expect(
        rows.map(([field]) => field),
        type.name,
      ).toEqual(fields.map((field) => field.name));
      expect(
        rows.map(([, , description]) => description?.replace(/\\\|/g, '|')),
        type.name,
      ).toEqual(fields.map((field) => firstSentence(field.description)));
    }
  });

  it('has the root types first (Query, Mutation, Subscription), then the others alphabetically', () => {
    const roots = ['Query', 'Mutation', 'Subscription'];
    const headings = [...doc.matchAll(/^## (\w+)$/gm)].map(([, name]) => name).filter((name) => name !== 'Rules');
    const others = objectTypes.map((type) => type.name).filter((name) => !roots.includes(name));
    expect(headings).toEqual([...roots, ...others.sort()]);
  });

  it('names the rule of each field as the rule tree has it', () => {
    expect(ruleOf('Mutation', 'productCreate')).toBe('isStaff');
    expect(ruleOf('Mutation', 'staffCreate')).toBe('isAdmin');
    expect(ruleOf('Mutation', 'customerAddressUpdate')).toBe('ownsAddressInput');
    expect(ruleOf('Query', 'products')).toBe('isPublic');
    expect(ruleOf('Query', 'accounts')).toBe('isStaff');
    expect(ruleOf('Account', 'email')).toBe('ownerOrStaff(Account)');
    expect(ruleOf('Address', 'line1')).toBe('ownerOrStaff(Address)');
    expect(ruleOf('Mutation', 'passwordChange')).toBe('isAuthenticated');
  });

  it('is deterministic', () => {
    expect(renderPermissionsDoc(schema)).toBe(doc);
  });
});

describe('renderPermissionsDoc', () => {
  it('shows a field without a rule as denied', () => {
    const mutations = Object.fromEntries(
      Object.entries(ruleTree.Mutation!).filter(([field]) => field !== 'productCreate'),
    );
    const rendered = renderPermissionsDoc(schema, { ...ruleTree, Mutation: mutations });
    expect(rowsOf(rendered, 'Mutation').find(([field]) => field === 'productCreate')?.[1]).toBe('**deny (no rule)**');
  });

  it('refuses a rule the legend does not explain', () => {
    const mystery = rule('isMysterious')(() => true);
    const tree = { ...ruleTree, Query: { ...ruleTree.Query, products: mystery } };
    expect(() => renderPermissionsDoc(schema, tree)).toThrow(/Query\.products \(isMysterious\)/);
  });

  it('refuses an unnamed rule', () => {
    const tree = { ...ruleTree, Query: { ...ruleTree.Query, products: rule()(() => true) } };
    expect(() => renderPermissionsDoc(schema, tree)).toThrow(/legend/);
  });

  it('calls allow (graphql-shield) isPublic and other rules by their name', () => {
    const tree = { Query: { products: isPublic, product: isStaff } };
    const rendered = renderPermissionsDoc(schema, tree);
    expect(rowsOf(rendered, 'Query').find(([field]) => field === 'products')?.[1]).toBe('isPublic');
    expect(rowsOf(rendered, 'Query').find(([field]) => field === 'product')?.[1]).toBe('isStaff');
    expect(rowsOf(rendered, 'Query').find(([field]) => field === 'node')?.[1]).toBe('**deny (no rule)**');
  });
});

describe('firstSentence', () => {
  it.each([
    ['One. Two.', 'One.'],
    ['Only one', 'Only one'],
    ['Such as `"19.99"`. More.', 'Such as `"19.99"`.'],
    ['Code `a. b` stays. Then', 'Code `a. b` stays.'],
    ['Over\n  two lines. Next', 'Over two lines.'],
    [undefined, ''],
  ])('of %j is %j', (description, sentence) => {
    expect(firstSentence(description)).toBe(sentence);
  });
});
