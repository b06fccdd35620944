// A subscription is charged its requested cost when the pipeline admits it (its pushes then run that selection
// again and again): nothing is given back, so subscribing in a loop empties the bucket like any other query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { startProductionServer } from './support.js';
import { overWebSocket } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ RATE_LIMIT_STAFF: '100/0.001' });
});
afterAll(async () => {
  await server?.close();
});

const SUBSCRIPTION = `subscription ($id: ID!) {
  orderStatusChanged(orderId: $id) { id lines { id quantity } events { kind } fulfillments { id } }
}`;

describe('a subscription', () => {
  it('is charged what it asks for at admission, so a loop of them is throttled', async () => {
    const staff = await server.tokenFor('STAFF');
    const codes: string[] = [];
    for (let i = 0; i < 12 && !codes.includes('THROTTLED'); i++) {
      const outcome = await overWebSocket(server, { query: SUBSCRIPTION, variables: { id: 'T3JkZXI6MQ' } }, staff);
      codes.push(String(outcome.errors?.[0]?.extensions?.code ?? 'OK'));
    }
    // Each costs over 20 points of the 100; refunded to one point, a hundred would pass.
    expect(codes.at(-1)).toBe('THROTTLED');
    expect(codes.length).toBeLessThanOrEqual(6);
  });
});
