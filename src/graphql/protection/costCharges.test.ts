// What the cost model charges beyond a plain selection: every list's size is declared, input lists cost by their
// length, and what came back is charged with each list at its actual length, nothing else given back.
import { getNamedType, isListType, isNonNullType, isObjectType, parse, type GraphQLOutputType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createBareSchema } from '../schema.js';
import { CostModel } from './cost.js';

const schema = createBareSchema();
const model = new CostModel(schema);
const requested = (query: string, variables: Record<string, unknown> = {}) =>
  model.requestedCost(parse(query), undefined, variables);
const charged = (query: string, data: Record<string, unknown>, variables: Record<string, unknown> = {}) =>
  model.responseCost(parse(query), undefined, variables, data);

const isList = (type: GraphQLOutputType) => isListType(isNonNullType(type) ? type.ofType : type);

describe('list sizes', () => {
  it('declares @listSize on every list field, but the pages of connections', () => {
    const undeclared: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || type.name.endsWith('Connection')) continue;
      for (const field of Object.values(type.getFields())) {
        const declared = field.astNode?.directives?.some((directive) => directive.name.value === 'listSize');
        if (isList(field.type) && !declared) undeclared.push(`${type.name}.${field.name}`);
      }
    }
    expect(undeclared, 'add @listSize(assumedSize: <the most it can hold>) to these list fields').toEqual([]);
  });

  it('counts the addresses of an account as the most an account may hold', () => {
    expect(requested('{ viewer { addresses { id } } }')).toBe(1 + 50);
  });

  it('counts connections by their page size, their edges and nodes once per node', () => {
    const connections = Object.values(schema.getTypeMap()).filter((type) => type.name.endsWith('Connection'));
    expect(connections.length).toBeGreaterThan(0);
    for (const type of connections) {
      if (!isObjectType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        if (isList(field.type)) expect(['edges', 'nodes']).toContain(field.name);
      }
      expect(getNamedType(type.getFields().nodes!.type).name).toBe(type.name.replace(/Connection$/, ''));
    }
  });
});

describe('input lists', () => {
  const ADD =
    'mutation ($lines: [CartLineInput!]!) { cartLinesAdd(input: { cartId: "c", lines: $lines }) { cart { id } } }';
  const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ variantId: `v${i}`, quantity: 1 }));

  it('cost a point per element, so 9,000 lines cost 9,000 points more than one', () => {
    expect(requested(ADD, { lines: lines(1) }) + 8999).toBe(requested(ADD, { lines: lines(9000) }));
    expect(requested(ADD, { lines: lines(9000) })).toBe(10 + 1 + 9000);
  });

  it('counts the elements of lists nested in the elements', () => {
    const query = `mutation ($variants: [ProductVariantFields!]) {
      productCreate(input: { title: "T", variants: $variants }) { product { id } } }`;
    const variant = (options: number) => ({
      sku: 'S',
      price: '1.00',
      selectedOptions: Array.from({ length: options }, () => ({ name: 'Size', value: 'M' })),
    });
    expect(requested(query, { variants: [variant(2), variant(3)] })).toBe(10 + 1 + 2 + 2 + 3);
  });

  it('charges a slicing argument through the list it sizes only', () => {
    expect(requested('{ nodes(ids: ["a", "b", "c"]) { id } }')).toBe(3);
  });

  it('charges the input again with the response', () => {
    const query = 'mutation ($ids: [ID!]!) { cartLinesRemove(input: { cartId: "c", lineIds: $ids }) { cart { id } } }';
    const ids = ['a', 'b', 'c', 'd'];
    expect(requested(query, { ids })).toBe(10 + 1 + 4);
    expect(charged(query, { cartLinesRemove: { cart: { id: 'c' } } }, { ids })).toBe(10 + 1 + 4);
  });
});

describe('what a response is charged', () => {
  it('charges a miss what it asked for: a lookup that found nothing is not free', () => {
    const query = '{ product(slug: "none") { id variants { id } } }';
    expect(charged(query, { product: null })).toBe(requested(query));
    expect(
      charged(
        '{ a: orderByNumber(number: 1, email: "a@b.c") { id } b: orderByNumber(number: 2, email: "a@b.c") { id } }',
        {
          a: null,
          b: null,
        },
      ),
    ).toBe(2);
  });

  it('charges every null item of a list as asked for', () => {
    expect(charged('{ nodes(ids: ["a", "b", "c"]) { id } }', { nodes: [null, { id: 'b' }, null] })).toBe(3);
  });

  it('gives back only what shorter lists did not return', () => {
    const query = '{ products(first: 10) { nodes { id variants { id } } } }';
    expect(requested(query)).toBe(2 + 10 * (1 + 5));
    const data = { products: { nodes: [{ id: 'p', variants: [{ id: 'v' }] }] } };
    expect(charged(query, data)).toBe(2 + 1 + 1);
  });

  it('charges lists longer than assumed by their length, above the requested cost', () => {
    const query = '{ viewer { addresses { id } } }';
    const addresses = Array.from({ length: 300 }, (_, i) => ({ id: `a${i}` }));
    expect(charged(query, { viewer: { addresses } })).toBe(1 + 300);
  });

  it('charges a connection whose page came back null as the page it asked for', () => {
    const query = '{ products(first: 4) { totalCount nodes { id } } }';
    expect(charged(query, { products: { totalCount: 3, nodes: null } })).toBe(requested(query));
  });
});
