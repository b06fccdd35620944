import { randomUUID } from 'node:crypto';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../../graphql/globalId.js';
import { argumentIds, distinct, payloadIds } from './targets.js';

const schema = buildSchema(`
  interface Node { id: ID! }
  type Thing implements Node { id: ID! }
  type Plain { id: ID! }
  type Query { x: Int }
  input Line { variantId: ID! quantity: Int! note: String }
  input DoInput { thingId: ID secret: String! lines: [Line!] tagIds: [ID!] count: Int }
  type DoPayload { thing: Thing things: [Thing] plain: Plain deletedThingId: ID token: String userErrors: [String!]! }
  type Mutation { do(input: DoInput!, extraId: ID): DoPayload! }
`);
const field = (schema.getMutationType() as GraphQLObjectType).getFields()['do']!;
const gid = (type = 'Thing') => toGlobalId(type, randomUUID());

describe('argumentIds', () => {
  it('takes every ID-typed value that is a global ID, at any depth, in declaration order', () => {
    const [thing, v1, v2, tag, extra] = [gid(), gid('ProductVariant'), gid('ProductVariant'), gid('Tag'), gid()];
    const ids = argumentIds(field, {
      extraId: extra,
      input: {
        tagIds: [tag],
        lines: [
          { variantId: v1, quantity: 1, note: gid() },
          { variantId: v2, quantity: 2 },
        ],
        secret: thing, // a global ID in a String field is still a String: not taken
        thingId: thing,
        count: 3,
      },
    });
    expect(ids).toEqual([thing, v1, v2, tag, extra]);
  });

  it('skips ID values that are not global IDs, and nulls', () => {
    expect(
      argumentIds(field, { input: { thingId: 'hunter2', tagIds: ['', 'tok_visa', 'VGhpbmc6bm90LWEtdXVpZA'] } }),
    ).toEqual([]);
    expect(argumentIds(field, { input: { thingId: null, lines: null }, extraId: null })).toEqual([]);
  });
});

describe('payloadIds', () => {
  it('takes the Node objects and ID fields directly on the payload, whether IDs are database or global', () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const deleted = gid();
    const ids = payloadIds(field.type, {
      thing: { id: a },
      things: [{ id: toGlobalId('Thing', b) }, null, { id: c }],
      plain: { id: randomUUID() }, // not a Node
      deletedThingId: deleted,
      token: gid(), // a String, however it looks
      userErrors: [],
    });
    expect(ids).toEqual([toGlobalId('Thing', a), toGlobalId('Thing', b), toGlobalId('Thing', c), deleted]);
  });

  it('takes nothing from a null payload, an error or an ID of another type', () => {
    expect(payloadIds(field.type, null)).toEqual([]);
    expect(payloadIds(field.type, new Error('no'))).toEqual([]);
    expect(payloadIds(field.type, { thing: { id: toGlobalId('Other', randomUUID()) }, userErrors: [] })).toEqual([]);
  });
});

describe('distinct', () => {
  it('keeps the first of each', () => {
    expect(distinct(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
  });
});
