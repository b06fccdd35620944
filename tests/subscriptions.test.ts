// orderStatusChanged over graphql-ws: the order's customer and staff see each move of its statuses (pushed by the
// outbox relay, after the change, so tests wait for them), the order read afresh on each push; nobody else may listen.
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toGlobalId } from '../src/graphql/globalId.js';
import { commerce, dbId, deliverWebhook, webhookBody, type OrderView } from './support/commerce.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;
let shop: ReturnType<typeof commerce>;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  staff = await server.tokenFor('STAFF');
  shop = commerce(server);
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

const SUBSCRIPTION = `subscription ($orderId: ID!) {
  orderStatusChanged(orderId: $orderId) { id status financialStatus fulfillmentStatus events { kind from to } }
}`;

interface Push {
  data?: {
    orderStatusChanged: Pick<OrderView, 'id' | 'status' | 'financialStatus' | 'fulfillmentStatus'> & {
      events: { kind: string; from: string | null; to: string }[];
    };
  };
  errors?: { extensions?: { code?: string } }[];
}

/** Collects what a subscription delivers; `first` resolves with the first result (data or errors). */
function listen(client: Client, orderId: string) {
  const received: Push[] = [];
  let resolveFirst: (value: unknown) => void;
  const first = new Promise((resolve) => (resolveFirst = resolve));
  const stop = client.subscribe(
    { query: SUBSCRIPTION, variables: { orderId } },
    {
      next: (value) => {
        received.push(value as Push);
        resolveFirst(value);
      },
      error: (error) => resolveFirst({ error }),
      complete: () => resolveFirst({ complete: true }),
    },
  );
  return { received, first, stop };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
};

/** Waits (up to 5 s) for the listeners to have `count` pushes each. */
async function pushes(listeners: ReturnType<typeof listen>[], count: number) {
  await until(() => listeners.every((listener) => listener.received.length >= count));
  for (const listener of listeners) expect(listener.received).toHaveLength(count);
}

const registered = () => new Promise((resolve) => setTimeout(resolve, 200));

/** A new customer's order, placed through checkout with `card`, and the customer's token. */
async function customerOrder(card = 'tok_visa') {
  const customer = await shop.customer();
  const variant = await shop.variant({ price: 1200 });
  const order = await shop.placed(await shop.cart([[variant, 2]], { as: customer.token }), {
    card,
    as: customer.token,
  });
  await server.runtime.relay.flush(); // the checkout's own event is delivered before anyone subscribes
  return { ...order, owner: customer.token };
}

const statusesOf = (push: Push) => {
  const { id, status, financialStatus, fulfillmentStatus } = push.data!.orderStatusChanged;
  return { id, status, financialStatus, fulfillmentStatus };
};
const lastEvent = (push: Push) => push.data!.orderStatusChanged.events.at(-1);

describe('orderStatusChanged', () => {
  it('tells the customer and staff each move of the order, with the order and its events as they are now', async () => {
    const order = await customerOrder();
    const customer = listen(connect(order.owner), order.id);
    const staffer = listen(connect(staff), order.id);
    await registered();

    const { fulfillment } = await shop.done(
      'orderFulfill',
      { orderId: order.id, carrier: 'DHL', trackingNumber: 'JD0001' },
      staff,
    );
    await pushes([customer, staffer], 1);
    await shop.done('fulfillmentMarkShipped', { fulfillmentId: fulfillment!.id }, staff);
    await pushes([customer, staffer], 2);

    for (const { received } of [customer, staffer]) {
      expect(received.map(statusesOf)).toEqual([
        { id: order.id, status: 'OPEN', financialStatus: 'AUTHORIZED', fulfillmentStatus: 'FULFILLED' },
        { id: order.id, status: 'OPEN', financialStatus: 'AUTHORIZED', fulfillmentStatus: 'FULFILLED' },
      ]);
      // each push reads the events afresh: the move that caused it is the last one
      expect(received.map(lastEvent)).toEqual([
        { kind: 'FULFILLMENT', from: 'UNFULFILLED', to: 'FULFILLED' },
        { kind: 'SHIPMENT', from: 'PACKED', to: 'SHIPPED' },
      ]);
      expect(received[1]!.data!.orderStatusChanged.events).toHaveLength(
        received[0]!.data!.orderStatusChanged.events.length + 1,
      );
    }
    customer.stop();
    staffer.stop();
  });

  it('pushes a staff move with the fresh events list, after earlier pushes to the same subscription', async () => {
    const order = await customerOrder();
    const staffer = listen(connect(staff), order.id);
    await registered();
    const kinds = () => staffer.received.map((push) => push.data!.orderStatusChanged.events.map((e) => e.kind));

    await shop.done('paymentCapture', { orderId: order.id, amount: '5.00', idempotencyKey: randomUUID() }, staff);
    await pushes([staffer], 1);
    await shop.done('paymentCapture', { orderId: order.id, idempotencyKey: randomUUID() }, staff);
    await pushes([staffer], 2);

    const current = (
      await server.gql(
        `query ($id: ID!) { order(id: $id) { events { kind from to } } }`,
        {
          id: order.id,
        },
        staff,
      )
    ).data.order.events;
    expect(staffer.received[1]!.data!.orderStatusChanged).toMatchObject({ financialStatus: 'PAID', events: current });
    expect(staffer.received.map(lastEvent)).toEqual([
      { kind: 'FINANCIAL', from: 'AUTHORIZED', to: 'PARTIALLY_PAID' },
      { kind: 'FINANCIAL', from: 'PARTIALLY_PAID', to: 'PAID' },
    ]);
    expect(kinds()[1]).toHaveLength(kinds()[0]!.length + 1);
    staffer.stop();
  });

  it('pushes a change a payment webhook makes to the customer', async () => {
    const order = await customerOrder('tok_requires_action');
    expect(order).toMatchObject({ status: 'OPEN', financialStatus: 'PENDING' });
    const customer = listen(connect(order.owner), order.id);
    await registered();

    const payment = await server.prisma.payment.findFirstOrThrow({ where: { orderId: dbId(order.id, 'Order') } });
    const body = webhookBody('payment.authorized', payment.providerReference, payment.amount);
    expect((await deliverWebhook(server, { body })).status).toBe(200);

    await pushes([customer], 1);
    expect(statusesOf(customer.received[0]!)).toEqual({
      id: order.id,
      status: 'OPEN',
      financialStatus: 'AUTHORIZED',
      fulfillmentStatus: 'UNFULFILLED',
    });
    expect(lastEvent(customer.received[0]!)).toEqual({ kind: 'FINANCIAL', from: 'PENDING', to: 'AUTHORIZED' });
    customer.stop();
  });

  it.each([
    ['another customer', async () => server.tokenFor('CUSTOMER'), 'FORBIDDEN'],
    ['an anonymous visitor', async () => undefined, 'UNAUTHENTICATED'],
  ])('is refused to %s with %s', async (_, token, code) => {
    const order = await customerOrder();
    const outsider = listen(connect(await token()), order.id);
    const first = (await outsider.first) as { error?: unknown; errors?: { extensions?: { code?: string } }[] };
    const errors = (first.error ?? first.errors) as { extensions?: { code?: string } }[];
    expect(errors.map((error) => error.extensions?.code)).toEqual([code]);
    await shop.done('orderFulfill', { orderId: order.id, carrier: 'DHL', trackingNumber: 'JD0002' }, staff);
    await server.runtime.relay.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outsider.received.filter((value) => value.data)).toEqual([]);
  });

  it('is refused for a declined checkout, whose order nobody sees', async () => {
    const variant = await shop.variant();
    const res = await shop.checkout(await shop.cart([[variant, 1]]), { card: 'tok_card_declined' });
    expect(res.data.checkoutComplete.order).toBeNull();
    const abandoned = await server.prisma.order.findFirstOrThrow({
      where: { status: 'ABANDONED', lines: { some: { variantId: variant.id } } },
    });
    const staffer = listen(connect(staff), toGlobalId('Order', abandoned.id));
    const first = (await staffer.first) as { error?: unknown; errors?: { extensions?: { code?: string } }[] };
    const errors = (first.error ?? first.errors) as { extensions?: { code?: string } }[];
    expect(errors.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(staffer.received.filter((value) => value.data)).toEqual([]);
  });
});
