// Deny by default, and no field left to the default: every field of every object type names its rule.
import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ruleTree } from '../src/graphql/permissions.js';
import { createBareSchema } from '../src/graphql/schema.js';

const schema = createBareSchema();
const objectTypes = Object.values(schema.getTypeMap()).filter(
  (type) => isObjectType(type) && !type.name.startsWith('__'),
);
const schemaFields = objectTypes.flatMap((type) =>
  Object.keys((type as { getFields(): object }).getFields()).map((field) => `${type.name}.${field}`),
);

describe('authorization rules', () => {
  it('name a rule for every field of every object type', () => {
    const unguarded = schemaFields.filter((path) => {
      const [type, field] = path.split('.') as [string, string];
      return !ruleTree[type]?.[field];
    });
    expect(unguarded).toEqual([]);
  });

  it('name no field the schema does not have', () => {
    const ruled = Object.entries(ruleTree).flatMap(([type, fields]) => Object.keys(fields).map((f) => `${type}.${f}`));
    expect(ruled.filter((path) => !schemaFields.includes(path))).toEqual([]);
  });

  it('cover a schema with fields in it', () => {
    expect(schemaFields).toContain('Mutation.productCreate');
    expect(schemaFields.length).toBeGreaterThan(50);
  });
});
