// Deny by default, and no field left to the default: every field of every object type names its rule.
import { randomUUID } from 'node:crypto';
import { getNamedType, graphql, isLeafType, isObjectType, type GraphQLObjectType } from 'graphql';
import { allow } from 'graphql-shield';
import { describe, expect, it } from 'vitest';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { applyMiddleware } from 'graphql-middleware';
import type { Viewer } from '../src/auth/viewer.js';
import { createPermissions, ruleTree } from '../src/graphql/permissions.js';
import { createBareSchema, createSchema, resolvers, typeDefs } from '../src/graphql/schema.js';

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

// ---------------------------------------------------------------------------------------------------------------
// Personal data: whose order, cart, address or account it is must be decided by a rule, so that every way of reaching
// such an object (today's fields and any added later) meets the same check, and docs/permissions.md shows it.

/** Leaf fields that hold something about a person: a type with one of these carries personal data. */
const PERSONAL_FIELDS =
  /^(email|firstName|lastName|phone|company|line1|line2|postalCode|trackingNumber|clientAddress)$/;
/** Types that only point at others: what they point at keeps its own rules. */
const isWrapper = (name: string) => /(Payload|Connection|Edge)$/.test(name);

/** The object types that carry personal data: those with a personal field, those holding such a type, and those
 * reached from nowhere but such types (an order's lines, a cart's cost). */
function personalTypes(): Set<string> {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  const types = objectTypes.filter((type) => !roots.has(type as never)) as GraphQLObjectType[];
  const fieldsOf = (type: GraphQLObjectType) => Object.values(type.getFields());
  const referrers = new Map<string, string[]>();
  for (const type of objectTypes as GraphQLObjectType[]) {
    for (const field of fieldsOf(type)) {
      const target = getNamedType(field.type).name;
      referrers.set(target, [...(referrers.get(target) ?? []), type.name]);
    }
  }
  const personal = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    for (const type of types) {
      if (personal.has(type.name) || isWrapper(type.name)) continue;
      const fields = fieldsOf(type);
      const parents = (referrers.get(type.name) ?? []).filter((name) => !isWrapper(name));
      if (
        fields.some((field) => isLeafType(getNamedType(field.type)) && PERSONAL_FIELDS.test(field.name)) ||
        fields.some((field) => personal.has(getNamedType(field.type).name)) ||
        (parents.length > 0 && parents.every((name) => personal.has(name)))
      ) {
        personal.add(type.name);
        grew = true;
      }
    }
  }
  return personal;
}

describe('types that carry personal data', () => {
  const personal = personalTypes();

  it('are found by the walk: orders, carts, addresses, accounts, payments and their parts', () => {
    for (const name of ['Order', 'OrderLine', 'Fulfillment', 'OrderEvent', 'PaymentSummary', 'Cart', 'CartLine']) {
      expect(personal).toContain(name);
    }
    for (const name of ['Account', 'Address', 'MailingAddress', 'CartBuyerIdentity', 'CartCost']) {
      expect(personal).toContain(name);
    }
    for (const name of ['Product', 'ProductVariant', 'Category', 'Money', 'ShippingMethod', 'PageInfo']) {
      expect(personal).not.toContain(name);
    }
  });

  it('have no public field: each is guarded by a rule that decides whose it is', () => {
    const open = [...personal].flatMap((type) =>
      Object.entries(ruleTree[type] ?? {})
        .filter(([, rule]) => rule === allow)
        .map(([field]) => `${type}.${field}`),
    );
    expect(open).toEqual([]);
  });
});

describe('the owner-or-staff check', () => {
  // Regression: the address rule ran (and hashed the whole address) for every field of every address, which with
  // 300 addresses read through 30 aliases was enough to run the server out of heap.
  it('is decided once per object, however many fields and aliases read it', async () => {
    const accountId = randomUUID();
    const reads = new Map<string, number>();
    const address = (n: number) => {
      const id = randomUUID();
      const row = { id, accountId, firstName: `Ada ${n}`, lastName: 'L', company: null, line1: '1 Main St' };
      return new Proxy(row, {
        get(target, property, receiver) {
          if (property === 'accountId') reads.set(id, (reads.get(id) ?? 0) + 1);
          return Reflect.get(target, property, receiver);
        },
      });
    };
    const addresses = [address(1), address(2), address(3)];
    const account = { id: accountId, email: 'ada@example.test', defaultAddressId: null };
    const contextValue = {
      viewer: { accountId, role: 'CUSTOMER', sessionId: randomUUID() },
      logger: { error: () => {}, warn: () => {} },
      loaders: {
        accountById: { load: async () => account },
        addressesByAccountId: { load: async () => addresses },
      },
    };
    const fields = 'id firstName lastName company line1';
    const result = await graphql({
      schema: createSchema(),
      source: `{ viewer { email a: addresses { ${fields} } b: addresses { ${fields} } c: addresses { id } } }`,
      contextValue,
    });
    expect(result.errors).toBeUndefined();
    expect((result.data as { viewer: { a: unknown[] } }).viewer.a).toHaveLength(3);
    expect([...reads.values()]).toEqual([1, 1, 1]);
  });
});

describe('a field added later that returns an order or a cart', () => {
  // Regression: Order and Cart fields were public and the checks sat in the resolvers of today's entry points, so
  // any new way to reach an order or a cart would have shown it to anyone.
  it("does not show another customer's order or cart: the types' own rules refuse it", async () => {
    const owner = randomUUID();
    const order = { id: randomUUID(), accountId: owner, number: 1001, email: 'owner@example.test' };
    const cart = { id: randomUUID(), accountId: owner, email: 'owner@example.test' };
    const bare = makeExecutableSchema({
      typeDefs: [typeDefs, 'extend type Query { someOrder: Order someCart: Cart }'],
      resolvers: [...resolvers, { Query: { someOrder: () => order, someCart: () => cart } }],
    });
    const schema = applyMiddleware(
      bare,
      createPermissions({ ...ruleTree, Query: { ...ruleTree.Query, someOrder: allow, someCart: allow } }),
    );
    const run = (viewer: Viewer) =>
      graphql({
        schema,
        source: '{ someOrder { number email } someCart { id } }',
        contextValue: { viewer, logger: { error: () => {}, warn: () => {} } },
      });

    const stranger = await run({ accountId: randomUUID(), role: 'CUSTOMER', sessionId: randomUUID() });
    expect(stranger.data).toEqual({ someOrder: null, someCart: null });
    expect(stranger.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    const anonymous = await run(null);
    expect(anonymous.data).toEqual({ someOrder: null, someCart: null });
    expect(anonymous.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);

    const own = await run({ accountId: owner, role: 'CUSTOMER', sessionId: randomUUID() });
    expect(own.errors).toBeUndefined();
    expect(own.data).toEqual({
      someOrder: { number: 1001, email: 'owner@example.test' },
      someCart: { id: expect.any(String) },
    });
  });
});
