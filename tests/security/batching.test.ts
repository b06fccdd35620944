// Batched HTTP requests when turned on (MAX_BATCH_SIZE=3): up to three operations per request, each still held to
// every limit on its own; a fourth is refused before anything runs. (Batching is off by default: transport.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { expectRefused, post, seedSmallCatalog, startProductionServer, withoutQueries } from './support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ MAX_BATCH_SIZE: '3' });
  await seedSmallCatalog(server.prisma);
});
afterAll(() => server?.close());

const TITLES = { query: '{ products(first: 3) { nodes { title } } }' };
const TITLES_DATA = {
  products: { nodes: [{ title: 'Aurora Hoodie' }, { title: 'Cedar Candle' }, { title: 'Ember Mug' }] },
};

describe('with MAX_BATCH_SIZE=3', () => {
  it('answers a batch of three', async () => {
    const res = await post(server, [
      TITLES,
      { query: 'query ($slug: String!) { category(slug: $slug) { name } }', variables: { slug: 'home' } },
      { query: '{ __typename }' },
    ]);
    expect(res.status, res.text).toBe(200);
    expect(res.body.map((result: { data: unknown }) => result.data)).toEqual([
      TITLES_DATA,
      { category: { name: 'Home' } },
      { __typename: 'Query' },
    ]);
  });

  it.each([4, 50])('refuses a batch of %i before running any of it', async (size) => {
    const res = await withoutQueries(server, () => post(server, Array(size).fill(TITLES)));
    expectRefused(res, {
      status: 400,
      code: 'BATCH_LIMIT_EXCEEDED',
      message: `The request batches ${size} operations, above the maximum of 3.`,
      maximum: 3,
      found: size,
    });
  });

  it('holds each operation of a batch to the limits on its own', async () => {
    const deep = `{ category(slug: "x") { ${'parent { '.repeat(15)}id${' }'.repeat(15)} } }`;
    const costly = '{ products(first: 99999999) { nodes { id } } }';
    const res = await withoutQueries(server, () =>
      post(server, [{ query: deep }, { query: costly }, { query: '{ __typename }' }]),
    );
    expect(res.body).toHaveLength(3);
    const [first, second, third] = res.body;
    expect(first.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'DEPTH_LIMIT_EXCEEDED', maximum: 12, found: 17 } }),
    ]);
    expect(second.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'MAX_COST_EXCEEDED', maximum: 1000, found: 100000001 } }),
    ]);
    expect(third.data).toEqual({ __typename: 'Query' });
  });

  it('holds a batch of mutations to the mutation limit per operation', async () => {
    const logIns = (count: number) =>
      `mutation { ${Array.from({ length: count }, (_, i) => `m${i}: logIn(input: { email: "victim@example.test", password: "guess${i}" }) { userErrors { code } }`).join(' ')} }`;
    const res = await withoutQueries(server, () => post(server, [{ query: logIns(6) }, { query: logIns(6) }]));
    expect(res.body.map((result: { errors: { extensions: unknown }[] }) => result.errors[0]!.extensions)).toEqual([
      { code: 'MUTATION_LIMIT_EXCEEDED', maximum: 5, found: 6 },
      { code: 'MUTATION_LIMIT_EXCEEDED', maximum: 5, found: 6 },
    ]);
  });
});
