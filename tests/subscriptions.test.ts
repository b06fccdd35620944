// orderStatusChanged over graphql-ws: the order's customer and staff see each status change; nobody else may listen.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { paidOrderOf } from './support/orders.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await seedStoreSettings(server.prisma);
  staff = await server.tokenFor('STAFF');
});
afterAll(async () => {
  await Promise.all(clients.map(async (client) => client.dispose()));
  await server?.close();
});

function connect(token?: string): Client {
  const client = createClient({
    url: server.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  return client;
}

const SUBSCRIPTION = 'subscription ($orderId: ID!) { orderStatusChanged(orderId: $orderId) { id status } }';

/** Collects what a subscription delivers; `first` resolves with the first result (data or errors). */
function listen(client: Client, orderId: string) {
  const received: unknown[] = [];
  let resolveFirst: (value: unknown) => void;
  const first = new Promise((resolve) => (resolveFirst = resolve));
  const stop = client.subscribe(
    { query: SUBSCRIPTION, variables: { orderId } },
    {
      next: (value) => {
        received.push(value);
        resolveFirst(value);
      },
      error: (error) => resolveFirst({ error }),
      complete: () => resolveFirst({ complete: true }),
    },
  );
  return { received, first, stop };
}

/** A paid order of a new customer, and the customer's token. */
async function paidOrder() {
  const { accountId } = await server.sessionFor('CUSTOMER');
  return { id: await paidOrderOf(server, accountId), owner: await server.tokenFor('CUSTOMER', { accountId }) };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe('orderStatusChanged', () => {
  it('tells the customer and staff each status change of the order', async () => {
    const order = await paidOrder();
    const customer = listen(connect(order.owner), order.id);
    const staffer = listen(connect(staff), order.id);
    await new Promise((resolve) => setTimeout(resolve, 200)); // both subscriptions registered

    const fulfil = await server.gql(
      'mutation ($id: ID!) { orderFulfill(input: { orderId: $id, carrier: "DHL", trackingNumber: "JD0001" }) { order { status } userErrors { code } } }',
      { id: order.id },
      staff,
    );
    expect(fulfil.data.orderFulfill).toEqual({ order: { status: 'FULFILLED' }, userErrors: [] });
    await server.gql(
      'mutation ($id: ID!) { orderMarkShipped(input: { orderId: $id }) { userErrors { code } } }',
      { id: order.id },
      staff,
    );

    await until(() => customer.received.length >= 2 && staffer.received.length >= 2);
    const expected = [
      { data: { orderStatusChanged: { id: order.id, status: 'FULFILLED' } } },
      { data: { orderStatusChanged: { id: order.id, status: 'SHIPPED' } } },
    ];
    expect(customer.received).toEqual(expected);
    expect(staffer.received).toEqual(expected);
    customer.stop();
    staffer.stop();
  });

  it.each([
    ['another customer', async () => server.tokenFor('CUSTOMER'), 'FORBIDDEN'],
    ['an anonymous visitor', async () => undefined, 'UNAUTHENTICATED'],
  ])('is refused to %s with %s', async (_, token, code) => {
    const order = await paidOrder();
    const outsider = listen(connect(await token()), order.id);
    const first = (await outsider.first) as { error?: unknown; errors?: { extensions?: { code?: string } }[] };
    const errors = (first.error ?? first.errors) as { extensions?: { code?: string } }[];
    expect(errors.map((error) => error.extensions?.code)).toEqual([code]);
    await server.gql(
      'mutation ($id: ID!) { orderFulfill(input: { orderId: $id, carrier: "DHL", trackingNumber: "JD0002" }) { userErrors { code } } }',
      { id: order.id },
      staff,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outsider.received.filter((value) => (value as { data?: unknown }).data)).toEqual([]);
  });
});
