import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

it('answers a query', async () => {
  const res = await server.gql('{ products(first: 1) { totalCount } }');
  expect(res.data).toEqual({ products: { totalCount: 0 } });
});
