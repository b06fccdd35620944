// Placed orders over HTTP: who may read them (order, node, orderByNumber, viewer { orders }, orders with its
// filters), and the staff's moves (orderFulfill, fulfillmentMarkShipped, fulfillmentMarkDelivered, orderCancel)
// with what each does to the order's three statuses, its shipments, its money and its stock. Checkout itself:
// checkout.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/globalId.js';
import {
  AUTHORIZED_EVENTS,
  commerce,
  dbId,
  newKey,
  OPERATIONS,
  ORDER_QUERY,
  orderEvent,
  outcome,
  type Input,
  type Operation,
  type OrderView,
  type Variant,
} from './support/commerce.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let shop: ReturnType<typeof commerce>;
let staff: string;
let staffId: string;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  staffId = (await server.sessionFor('STAFF')).accountId;
  staff = await server.tokenFor('STAFF', { accountId: staffId });
});
afterAll(() => server?.close());

const NODE_QUERY =
  'query ($id: ID!) { node(id: $id) { __typename id ... on Order { number status financialStatus } } }';
const BY_NUMBER =
  'query ($number: Int!, $email: String!) { orderByNumber(number: $number, email: $email) { id number } }';
const VIEWER_ORDERS =
  'query { viewer { orders(first: 20) { totalCount nodes { id number status financialStatus } } } }';
const ORDERS = `query ($filter: OrderFilter, $first: Int) {
  orders(filter: $filter, first: $first) { totalCount nodes { id status financialStatus fulfillmentStatus } } }`;

const DHL = { carrier: 'DHL', trackingNumber: '00340434161094042557' };
const VISIBLE = ['OPEN', 'CLOSED', 'CANCELLED'] as const;
const stock = (stockOnHand: number, stockReserved = 0) => ({ stockOnHand, stockReserved });
const event = orderEvent;

/** A variant's ledger entries, oldest first by their time. */
const ledgerOf = async (variant: Variant) =>
  (
    await server.prisma.inventoryChange.findMany({
      where: { variantId: variant.id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    })
  ).map(({ reason, before, after, accountId }) => ({ reason, before, after, accountId }));

/** Every row the staff's moves could write, to show that a refused move wrote nothing. */
const shopState = async () => ({
  variants: await server.prisma.productVariant.findMany({ orderBy: { id: 'asc' } }),
  orders: await server.prisma.order.findMany({ orderBy: { id: 'asc' }, include: { lines: true, events: true } }),
  fulfillments: await server.prisma.fulfillment.findMany({ orderBy: { id: 'asc' }, include: { lines: true } }),
  payments: await server.prisma.payment.findMany({ orderBy: { id: 'asc' } }),
  ledger: await server.prisma.inventoryChange.findMany({ orderBy: { id: 'asc' } }),
  charges: await server.prisma.sandboxCharge.findMany({ orderBy: { idempotencyKey: 'asc' } }),
});

/** The order of a move that must have succeeded, as staff. */
const moved = async (name: Operation, input: Input) => (await shop.done(name, input, staff)).order;

/** A checkout refused with PAYMENT_DECLINED: its hidden (ABANDONED) order's database ID. */
async function declinedCheckout(lines: [Variant, number][], as?: string): Promise<string> {
  const cartId = await shop.cart(lines, { as });
  const res = await shop.checkout(cartId, { card: 'tok_card_declined', as });
  expect(res.data.checkoutComplete.userErrors).toEqual([expect.objectContaining({ code: 'PAYMENT_DECLINED' })]);
  const attempt = await server.prisma.checkoutAttempt.findFirstOrThrow({ where: { cartId: dbId(cartId, 'Cart') } });
  return attempt.orderId!;
}

// ---------------------------------------------------------------------------------------------------------------

describe('who may read orders', () => {
  let owner: Awaited<ReturnType<typeof shop.customer>>;
  let stranger: Awaited<ReturnType<typeof shop.customer>>;
  let mug: Variant;

  beforeAll(async () => {
    [owner, stranger] = [await shop.customer(), await shop.customer()];
    mug = await shop.variant({ price: 800, stock: 1000 });
  });

  it('shows an order through order(id:) and node(id:) to its customer and staff only', async () => {
    const order = await shop.authorizedOrder([[mug, 2]], owner.token);
    for (const token of [owner.token, staff]) {
      expect(outcome(await server.gql(ORDER_QUERY, { id: order.id }, token))).toEqual({
        data: { order },
        codes: undefined,
      });
      expect(outcome(await server.gql(NODE_QUERY, { id: order.id }, token))).toEqual({
        data: {
          node: {
            __typename: 'Order',
            id: order.id,
            number: order.number,
            status: 'OPEN',
            financialStatus: 'AUTHORIZED',
          },
        },
        codes: undefined,
      });
    }
    for (const [token, code] of [
      [stranger.token, 'FORBIDDEN'],
      [undefined, 'UNAUTHENTICATED'],
    ] as const) {
      expect(outcome(await server.gql(ORDER_QUERY, { id: order.id }, token))).toEqual({
        data: { order: null },
        codes: [code],
      });
      expect(outcome(await server.gql(NODE_QUERY, { id: order.id }, token))).toEqual({
        data: { node: null },
        codes: [code],
      });
    }
  });

  it('keeps a guest’s order from every customer, even one with the same email', async () => {
    const order = await shop.placed(await shop.cart([[mug, 1]], { email: owner.email }));
    expect(order.email).toBe(owner.email);
    expect(outcome(await server.gql(ORDER_QUERY, { id: order.id }, owner.token))).toEqual({
      data: { order: null },
      codes: ['FORBIDDEN'],
    });
    expect((await server.gql(ORDER_QUERY, { id: order.id }, staff)).data.order.id).toBe(order.id);
  });

  it('answers null for an order that does not exist, and rejects a malformed ID', async () => {
    expect(outcome(await server.gql(ORDER_QUERY, { id: toGlobalId('Order', randomUUID()) }, staff))).toEqual({
      data: { order: null },
      codes: undefined,
    });
    expect(outcome(await server.gql(ORDER_QUERY, { id: toGlobalId('Cart', randomUUID()) }, staff))).toEqual({
      data: { order: null },
      codes: ['BAD_USER_INPUT'],
    });
  });

  it('answers null for an abandoned checkout’s order, to its customer and to staff', async () => {
    const hidden = toGlobalId('Order', await declinedCheckout([[mug, 1]], owner.token));
    for (const token of [owner.token, staff]) {
      expect(outcome(await server.gql(ORDER_QUERY, { id: hidden }, token))).toEqual({
        data: { order: null },
        codes: undefined,
      });
      expect(outcome(await server.gql(NODE_QUERY, { id: hidden }, token))).toEqual({
        data: { node: null },
        codes: undefined,
      });
    }
  });

  it('tracks an order by number and email, the email in any case, for anyone', async () => {
    const email = `Tracker-${randomUUID()}@Example.test`;
    const order = await shop.placed(await shop.cart([[mug, 1]], { email }));
    const found = { orderByNumber: { id: order.id, number: order.number } };
    const track = async (number: number, address: string) =>
      outcome(await server.gql(BY_NUMBER, { number, email: address }));

    expect(await track(order.number, email)).toEqual({ data: found, codes: undefined });
    expect(await track(order.number, `  ${email.toUpperCase()} `)).toEqual({ data: found, codes: undefined });
    expect(await track(order.number, 'someone-else@example.test')).toEqual({
      data: { orderByNumber: null },
      codes: undefined,
    });
    expect(await track(order.number + 1000, email)).toEqual({ data: { orderByNumber: null }, codes: undefined });
  });

  it('lists a customer’s own orders, newest first, in viewer { orders }, without abandoned checkouts', async () => {
    const shopper = await shop.customer();
    const first = await shop.authorizedOrder([[mug, 1]], shopper.token);
    const second = await shop.placed(await shop.cart([[mug, 1]], { as: shopper.token }), {
      as: shopper.token,
      card: 'tok_requires_action',
    });
    await declinedCheckout([[mug, 1]], shopper.token);
    await shop.authorizedOrder([[mug, 1]], stranger.token);

    const res = await server.gql(VIEWER_ORDERS, {}, shopper.token);
    expect(outcome(res)).toEqual({
      data: {
        viewer: {
          orders: {
            totalCount: 2,
            nodes: [
              { id: second.id, number: second.number, status: 'OPEN', financialStatus: 'PENDING' },
              { id: first.id, number: first.number, status: 'OPEN', financialStatus: 'AUTHORIZED' },
            ],
          },
        },
      },
      codes: undefined,
    });
  });

  describe('orders(filter:) for staff', () => {
    let abandoned: string[];

    beforeAll(async () => {
      // orders in every status worth filtering on, and an abandoned checkout that no filter may find
      await shop.authorizedOrder([[mug, 1]]);
      await shop.placed(await shop.cart([[mug, 1]]), { card: 'tok_requires_action' });
      const cancelled = await shop.authorizedOrder([[mug, 1]]);
      await moved('orderCancel', { orderId: cancelled.id });
      const packed = await shop.authorizedOrder([[mug, 1]]);
      await moved('orderFulfill', { orderId: packed.id, ...DHL });
      await declinedCheckout([[mug, 1]]);
      const rows = await server.prisma.order.findMany({ where: { status: { notIn: [...VISIBLE] } } });
      abandoned = rows.map((row) => toGlobalId('Order', row.id));
      expect(abandoned.length).toBeGreaterThan(0);
    });

    it.each([
      { status: 'OPEN' },
      { status: 'CANCELLED' },
      { financialStatus: 'AUTHORIZED' },
      { financialStatus: 'PENDING' },
      { financialStatus: 'VOIDED' },
      { fulfillmentStatus: 'FULFILLED' },
      { status: 'OPEN', financialStatus: 'AUTHORIZED', fulfillmentStatus: 'UNFULFILLED' },
      {},
    ])('lists orders(filter: %o), newest first, placed orders only', async (filter) => {
      const res = await server.gql(ORDERS, { filter, first: 100 }, staff);
      const rows = await server.prisma.order.findMany({
        where: { status: { in: [...VISIBLE] }, ...(filter as object) },
        orderBy: { id: 'desc' },
      });
      expect(rows.length).toBeGreaterThan(0);
      expect(outcome(res)).toEqual({
        data: {
          orders: {
            totalCount: rows.length,
            nodes: rows.slice(0, 100).map((row) => ({
              id: toGlobalId('Order', row.id),
              status: row.status,
              financialStatus: row.financialStatus,
              fulfillmentStatus: row.fulfillmentStatus,
            })),
          },
        },
        codes: undefined,
      });
      for (const id of abandoned) expect(res.data.orders.nodes).not.toContainEqual(expect.objectContaining({ id }));
    });

    it('lists orders(filter: { createdAfter, createdBefore }): from createdAfter, up to before createdBefore', async () => {
      for (let i = 0; i < 3; i++) await shop.authorizedOrder([[mug, 1]]);
      const all = await server.prisma.order.findMany({
        where: { status: { in: [...VISIBLE] } },
        orderBy: { id: 'desc' },
      });
      const times = [...new Set(all.map((order) => order.createdAt.getTime()))].sort((a, b) => a - b);
      // boundaries taken from the orders themselves, so that each side leaves some out
      const [after, before] = [new Date(times[1]!), new Date(times.at(-1)!)];
      const expected = all.filter((order) => order.createdAt >= after && order.createdAt < before);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(all.length - 1);
      const filter = { createdAfter: after.toISOString(), createdBefore: before.toISOString() };
      expect(outcome(await server.gql(ORDERS, { filter, first: 100 }, staff))).toEqual({
        data: {
          orders: {
            totalCount: expected.length,
            nodes: expected.map((row) => ({
              id: toGlobalId('Order', row.id),
              status: row.status,
              financialStatus: row.financialStatus,
              fulfillmentStatus: row.fulfillmentStatus,
            })),
          },
        },
        codes: undefined,
      });
    });

    it.each([
      { caller: 'a customer', token: () => owner.token, code: 'FORBIDDEN' },
      { caller: 'an anonymous visitor', token: () => undefined, code: 'UNAUTHENTICATED' },
    ])('refuses orders(...) to $caller with $code', async ({ token, code }) => {
      expect(outcome(await server.gql(ORDERS, { filter: { status: 'OPEN' } }, token()))).toEqual({
        data: null,
        codes: [code],
      });
    });
  });
});

describe('the staff’s moves on an order', () => {
  it('packs, ships and delivers an authorized order, recording each move; capturing then closes it', async () => {
    const mug = await shop.variant({ stock: 5 });
    const order = await shop.authorizedOrder([[mug, 2]]);
    expect(order).toMatchObject({ fulfillmentStatus: 'UNFULFILLED', events: AUTHORIZED_EVENTS });

    const packed = await shop.done('orderFulfill', { orderId: order.id, ...DHL }, staff);
    const shipment = packed.fulfillment!.id;
    expect(packed.fulfillment).toEqual({ id: expect.any(String), status: 'PACKED' });
    expect(packed.order).toEqual({
      ...order,
      fulfillmentStatus: 'FULFILLED',
      lines: [{ ...order.lines[0]!, fulfilledQuantity: 2, fulfillableQuantity: 0 }],
      fulfillments: [
        {
          id: shipment,
          status: 'PACKED',
          ...DHL,
          lines: [{ orderLine: { id: order.lines[0]!.id, sku: mug.sku }, quantity: 2 }],
        },
      ],
      events: [
        ...order.events,
        event('FULFILLMENT', 'UNFULFILLED', 'FULFILLED', `packed for DHL ${DHL.trackingNumber}`),
      ],
    });

    const shipped = await shop.done(
      'fulfillmentMarkShipped',
      { fulfillmentId: shipment, note: 'left the warehouse' },
      staff,
    );
    expect(shipped.fulfillment).toEqual({ id: shipment, status: 'SHIPPED' });
    expect(shipped.order).toEqual({
      ...packed.order,
      fulfillments: [{ ...packed.order.fulfillments[0]!, status: 'SHIPPED' }],
      events: [...packed.order.events, event('SHIPMENT', 'PACKED', 'SHIPPED', 'left the warehouse')],
    });

    const delivered = await shop.done('fulfillmentMarkDelivered', { fulfillmentId: shipment }, staff);
    // delivered, but the money is only authorized: the order stays open
    expect(delivered.order).toEqual({
      ...shipped.order,
      status: 'OPEN',
      fulfillments: [{ ...packed.order.fulfillments[0]!, status: 'DELIVERED' }],
      events: [...shipped.order.events, event('SHIPMENT', 'SHIPPED', 'DELIVERED')],
    });

    const paid = await moved('paymentCapture', { orderId: order.id, idempotencyKey: newKey('capture') });
    expect(paid).toMatchObject({
      status: 'CLOSED',
      financialStatus: 'PAID',
      fulfillmentStatus: 'FULFILLED',
      payment: { status: 'CAPTURED', captured: order.total },
    });

    const stored = await server.prisma.order.findUniqueOrThrow({
      where: { id: dbId(order.id, 'Order') },
      include: { events: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }, fulfillments: true },
    });
    expect(stored).toMatchObject({ status: 'CLOSED', financialStatus: 'PAID', fulfillmentStatus: 'FULFILLED' });
    expect(stored.fulfillments).toEqual([
      expect.objectContaining({ id: dbId(shipment, 'Fulfillment'), status: 'DELIVERED', ...DHL }),
    ]);
    const shipmentId = dbId(shipment, 'Fulfillment');
    expect(stored.events.map((e) => [e.kind, e.fromStatus, e.toStatus, e.fulfillmentId, e.accountId])).toEqual([
      ['STATUS', null, 'CHECKOUT', null, null],
      ['STATUS', 'CHECKOUT', 'OPEN', null, null],
      ['FINANCIAL', 'PENDING', 'AUTHORIZED', null, null],
      ['FULFILLMENT', 'UNFULFILLED', 'FULFILLED', null, staffId],
      ['SHIPMENT', 'PACKED', 'SHIPPED', shipmentId, staffId],
      ['SHIPMENT', 'SHIPPED', 'DELIVERED', shipmentId, staffId],
      ['STATUS', 'OPEN', 'CLOSED', null, staffId],
      ['FINANCIAL', 'AUTHORIZED', 'PAID', null, staffId],
    ]);
    // shipping an order moves no stock
    expect(await shop.stockOf(mug)).toEqual(stock(3));
  });

  it('refuses a shipment without a carrier or tracking number', async () => {
    const order = await shop.authorizedOrder([[await shop.variant(), 1]]);
    const before = await shopState();
    const res = await shop.operate('orderFulfill', { orderId: order.id, carrier: ' ', trackingNumber: '123' }, staff);
    expect(res.data.orderFulfill).toEqual({
      order: null,
      fulfillment: null,
      userErrors: [
        {
          field: ['input', 'carrier'],
          code: 'INVALID',
          message: 'Give a carrier and a tracking number of 1 to 100 characters.',
        },
      ],
    });
    expect(await shopState()).toEqual(before);
  });

  type State = 'PENDING' | 'PACKED' | 'SHIPPED' | 'DELIVERED' | 'CLOSED' | 'CANCELLED' | 'CANCELLED_PACKED';

  /** An order in `state`, reached through the API, with its shipment when it has one. */
  async function orderIn(state: State): Promise<{ order: OrderView; shipment?: string }> {
    const variant = await shop.variant();
    if (state === 'PENDING') {
      return { order: await shop.placed(await shop.cart([[variant, 1]]), { card: 'tok_requires_action' }) };
    }
    const order = await shop.authorizedOrder([[variant, 1]]);
    if (state === 'CANCELLED') {
      await moved('orderCancel', { orderId: order.id });
      return { order };
    }
    const shipment = (await shop.done('orderFulfill', { orderId: order.id, ...DHL }, staff)).fulfillment!.id;
    if (state === 'CANCELLED_PACKED') await moved('orderCancel', { orderId: order.id });
    if (['SHIPPED', 'DELIVERED', 'CLOSED'].includes(state)) {
      await moved('fulfillmentMarkShipped', { fulfillmentId: shipment });
    }
    if (['DELIVERED', 'CLOSED'].includes(state)) await moved('fulfillmentMarkDelivered', { fulfillmentId: shipment });
    if (state === 'CLOSED') await moved('paymentCapture', { orderId: order.id, idempotencyKey: newKey('capture') });
    return { order, shipment };
  }

  const orderConflict = (message: string) => ({ field: ['input', 'orderId'], code: 'CONFLICT', message });
  const shipmentConflict = (from: string, to: string) => ({
    field: ['input', 'fulfillmentId'],
    code: 'CONFLICT',
    message: `A fulfillment that is ${from} cannot become ${to}.`,
  });
  const illegal: { state: State; move: Operation; error: object }[] = [
    {
      state: 'PENDING',
      move: 'orderFulfill',
      error: orderConflict('An order whose payment is PENDING cannot be fulfilled.'),
    },
    { state: 'PACKED', move: 'orderFulfill', error: orderConflict('Nothing is left to ship.') },
    {
      state: 'CANCELLED',
      move: 'orderFulfill',
      error: orderConflict('An order that is CANCELLED cannot be fulfilled.'),
    },
    { state: 'SHIPPED', move: 'fulfillmentMarkShipped', error: shipmentConflict('SHIPPED', 'SHIPPED') },
    { state: 'DELIVERED', move: 'fulfillmentMarkShipped', error: shipmentConflict('DELIVERED', 'SHIPPED') },
    { state: 'DELIVERED', move: 'fulfillmentMarkDelivered', error: shipmentConflict('DELIVERED', 'DELIVERED') },
    { state: 'CANCELLED_PACKED', move: 'fulfillmentMarkShipped', error: shipmentConflict('CANCELLED', 'SHIPPED') },
    { state: 'CANCELLED_PACKED', move: 'fulfillmentMarkDelivered', error: shipmentConflict('CANCELLED', 'DELIVERED') },
    {
      state: 'SHIPPED',
      move: 'orderCancel',
      error: orderConflict('Part of this order has shipped; it cannot be cancelled.'),
    },
    { state: 'CLOSED', move: 'orderCancel', error: orderConflict('An order that is CLOSED cannot be cancelled.') },
    {
      state: 'CANCELLED',
      move: 'orderCancel',
      error: orderConflict('An order that is CANCELLED cannot be cancelled.'),
    },
  ];

  it.each(illegal)(
    'refuses $move on a $state order with CONFLICT, changing nothing',
    async ({ state, move, error }) => {
      const { order, shipment } = await orderIn(state);
      const before = await shopState();
      const input = move.startsWith('fulfillment')
        ? { fulfillmentId: shipment }
        : { orderId: order.id, ...(move === 'orderFulfill' && DHL) };
      expect(await shop.refused(move, input, staff)).toEqual([error]);
      expect(await shopState()).toEqual(before);
    },
  );

  it('answers NOT_FOUND for an order or a shipment that does not exist, and for an abandoned checkout’s order', async () => {
    const hidden = toGlobalId('Order', await declinedCheckout([[await shop.variant(), 1]]));
    const before = await shopState();
    for (const orderId of [toGlobalId('Order', randomUUID()), hidden]) {
      for (const move of ['orderFulfill', 'orderCancel'] as const) {
        expect(await shop.refused(move, { orderId, ...(move === 'orderFulfill' && DHL) }, staff)).toEqual([
          { field: ['input', 'orderId'], code: 'NOT_FOUND', message: 'No order with this ID.' },
        ]);
      }
    }
    for (const move of ['fulfillmentMarkShipped', 'fulfillmentMarkDelivered'] as const) {
      expect(await shop.refused(move, { fulfillmentId: toGlobalId('Fulfillment', randomUUID()) }, staff)).toEqual([
        { field: ['input', 'fulfillmentId'], code: 'NOT_FOUND', message: 'No fulfillment with this ID.' },
      ]);
    }
    expect(await shopState()).toEqual(before);
  });

  it.each(['UNFULFILLED', 'FULFILLED'])(
    'orderCancel of an authorized %s order voids the authorization and puts its stock back on hand, in the ledger',
    async (packing) => {
      const [mug, pen] = [await shop.variant({ stock: 5 }), await shop.variant({ stock: 8 })];
      const order = await shop.authorizedOrder([
        [mug, 2],
        [pen, 3],
      ]);
      if (packing === 'FULFILLED') await moved('orderFulfill', { orderId: order.id, ...DHL });
      expect([await shop.stockOf(mug), await shop.stockOf(pen)]).toEqual([stock(3), stock(5)]);

      const cancelled = await moved('orderCancel', { orderId: order.id, note: 'customer changed their mind' });

      expect(cancelled).toMatchObject({
        status: 'CANCELLED',
        financialStatus: 'VOIDED',
        fulfillmentStatus: packing,
        payment: { status: 'VOIDED', captured: { amount: '0.00' } },
        fulfillments: packing === 'FULFILLED' ? [expect.objectContaining({ status: 'CANCELLED' })] : [],
      });
      // the authorization is voided, a packed shipment cancelled, and the staff's note is in the order's history
      const note = expect.stringContaining('customer changed their mind');
      const moves = cancelled.events.slice(order.events.length + (packing === 'FULFILLED' ? 1 : 0));
      expect(moves).toHaveLength(packing === 'FULFILLED' ? 3 : 2);
      expect(moves).toEqual(
        expect.arrayContaining([
          event('FINANCIAL', 'AUTHORIZED', 'VOIDED', expect.any(String)),
          ...(packing === 'FULFILLED' ? [event('SHIPMENT', 'PACKED', 'CANCELLED', note)] : []),
          event('STATUS', 'OPEN', 'CANCELLED', note),
        ]),
      );
      expect([await shop.stockOf(mug), await shop.stockOf(pen)]).toEqual([stock(5), stock(8)]);
      expect(await ledgerOf(mug)).toEqual([
        { reason: `order #${order.number}`, before: 5, after: 3, accountId: null },
        { reason: `order #${order.number} cancelled`, before: 3, after: 5, accountId: staffId },
      ]);
      expect(await ledgerOf(pen)).toEqual([
        { reason: `order #${order.number}`, before: 8, after: 5, accountId: null },
        { reason: `order #${order.number} cancelled`, before: 5, after: 8, accountId: staffId },
      ]);
      // the processor released the authorization
      const payment = await server.prisma.payment.findFirstOrThrow({ where: { orderId: dbId(order.id, 'Order') } });
      expect(payment.status).toBe('VOIDED');
      expect(
        await server.prisma.sandboxCharge.findUniqueOrThrow({ where: { idempotencyKey: payment.idempotencyKey! } }),
      ).toMatchObject({ voided: true, captured: 0 });
    },
  );

  it('orderCancel of an order whose payment is PENDING releases its reservation, with nothing in the ledger', async () => {
    const mug = await shop.variant({ stock: 6 });
    const order = await shop.placed(await shop.cart([[mug, 4]]), { card: 'tok_requires_action' });
    expect(await shop.stockOf(mug)).toEqual(stock(6, 4));

    const cancelled = await moved('orderCancel', { orderId: order.id });

    expect(cancelled).toMatchObject({ status: 'CANCELLED', financialStatus: 'VOIDED', payment: { status: 'VOIDED' } });
    const moves = cancelled.events.slice(order.events.length).map((e) => [e.kind, e.from, e.to]);
    expect(moves).toHaveLength(2);
    expect(moves).toEqual(
      expect.arrayContaining([
        ['FINANCIAL', 'PENDING', 'VOIDED'],
        ['STATUS', 'OPEN', 'CANCELLED'],
      ]),
    );
    expect(await shop.stockOf(mug)).toEqual(stock(6));
    expect(await ledgerOf(mug)).toEqual([]);
    const stored = await server.prisma.order.findUniqueOrThrow({ where: { id: dbId(order.id, 'Order') } });
    expect(stored.reservedUntil).toBeNull();
  });

  it.each(Object.keys(OPERATIONS).filter((name) => !name.startsWith('payment')) as Operation[])(
    'refuses %s to a customer (FORBIDDEN) and to an anonymous visitor (UNAUTHENTICATED)',
    async (name) => {
      const shopper = await shop.customer();
      const order = await shop.authorizedOrder([[await shop.variant(), 1]], shopper.token);
      const shipment = (await shop.done('orderFulfill', { orderId: order.id, ...DHL }, staff)).fulfillment!.id;
      const before = await shopState();
      const input = name.startsWith('fulfillment')
        ? { fulfillmentId: shipment }
        : { orderId: order.id, ...(name === 'orderFulfill' && DHL) };
      expect(outcome(await shop.operate(name, input, shopper.token))).toEqual({ data: null, codes: ['FORBIDDEN'] });
      expect(outcome(await shop.operate(name, input, undefined))).toEqual({ data: null, codes: ['UNAUTHENTICATED'] });
      expect(await shopState()).toEqual(before);
    },
  );
});
