// The order model end to end, as staff would drive it through every payment and fulfilment path: each combination
// ends where src/modules/order/stateMachines.ts says, with the stock and the money to match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commerce, type OrderView } from './support/commerce.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;
let shop: ReturnType<typeof commerce>;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  staff = await server.tokenFor('STAFF');
});
afterAll(() => server?.close());

const key = (name: string) => `${name}-${crypto.randomUUID()}`;
const statuses = (order: OrderView) => [order.status, order.financialStatus, order.fulfillmentStatus];

describe('placing an order', () => {
  it('places an approved checkout OPEN, AUTHORIZED, UNFULFILLED, with a number and the stock sold', async () => {
    const mug = await shop.variant({ price: 1000, stock: 5 });
    const order = await shop.authorizedOrder([[mug, 2]]);
    expect(statuses(order)).toEqual(['OPEN', 'AUTHORIZED', 'UNFULFILLED']);
    expect(order.number).toBeGreaterThan(1000);
    expect(order.events.map((e) => [e.kind, e.from, e.to])).toEqual([
      ['STATUS', null, 'CHECKOUT'],
      ['STATUS', 'CHECKOUT', 'OPEN'],
      ['FINANCIAL', 'PENDING', 'AUTHORIZED'],
    ]);
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 3, stockReserved: 0 });
  });

  it('leaves no visible order and uses no number for a declined checkout', async () => {
    const mug = await shop.variant({ stock: 5 });
    const before = await server.prisma.order.aggregate({ _max: { number: true } });
    const res = await shop.checkout(await shop.cart([[mug, 1]]), { card: 'tok_card_declined' });
    expect(res.data.checkoutComplete.userErrors[0].code).toBe('PAYMENT_DECLINED');
    const next = await shop.authorizedOrder([[mug, 1]]);
    expect(next.number).toBe((before._max.number ?? 1000) + 1);
    const listed = await server.gql('{ orders(first: 100) { nodes { id } } }', {}, staff);
    expect(listed.data.orders.nodes.map((o: { id: string }) => o.id)).toEqual([
      next.id,
      ...listed.data.orders.nodes.slice(1).map((o: { id: string }) => o.id),
    ]);
    const abandoned = await server.prisma.order.findMany({
      where: { status: 'ABANDONED', lines: { some: { variantId: mug.id } } },
    });
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]!.number).toBeNull();
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 4, stockReserved: 0 });
  });
});

describe('money and fulfilment together', () => {
  it('captures in parts, then a final capture releases the rest', async () => {
    const mug = await shop.variant({ price: 1000 });
    const order = await shop.authorizedOrder([[mug, 1]]);
    let now = (
      await shop.done('paymentCapture', { orderId: order.id, amount: '3.00', idempotencyKey: key('c1') }, staff)
    ).order;
    expect(now.financialStatus).toBe('PARTIALLY_PAID');
    now = (await shop.done('paymentCapture', { orderId: order.id, amount: '2.00', idempotencyKey: key('c2') }, staff))
      .order;
    expect(now.financialStatus).toBe('PARTIALLY_PAID');
    expect(now.payment!.captured.amount).toBe('5.00');
    now = (
      await shop.done(
        'paymentCapture',
        { orderId: order.id, amount: '1.00', finalCapture: true, idempotencyKey: key('c3') },
        staff,
      )
    ).order;
    expect(now.financialStatus).toBe('PAID');
    expect(now.payment).toMatchObject({ status: 'CAPTURED', captured: { amount: '6.00' } });
    const more = await shop.refused('paymentCapture', { orderId: order.id, idempotencyKey: key('c4') }, staff);
    expect(more[0]!.code).toBe('INVALID');
  });

  it('voids an unshipped order: cancelled, stock back, nothing capturable', async () => {
    const mug = await shop.variant({ stock: 5 });
    const order = await shop.authorizedOrder([[mug, 2]]);
    const now = (await shop.done('paymentVoid', { orderId: order.id, idempotencyKey: key('v') }, staff)).order;
    expect(statuses(now)).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 5, stockReserved: 0 });
    expect(
      (await shop.refused('paymentCapture', { orderId: order.id, idempotencyKey: key('c') }, staff))[0]!.code,
    ).toBe('INVALID');
    expect(
      (await shop.refused('orderFulfill', { orderId: order.id, carrier: 'DHL', trackingNumber: '1' }, staff))[0]!.code,
    ).toBe('CONFLICT');
  });

  it('cancels with the authorization voided, and never captures on the cancelled order', async () => {
    const mug = await shop.variant({ stock: 5 });
    const order = await shop.authorizedOrder([[mug, 1]]);
    const now = (await shop.done('orderCancel', { orderId: order.id }, staff)).order;
    expect(statuses(now)).toEqual(['CANCELLED', 'VOIDED', 'UNFULFILLED']);
    expect(now.payment!.status).toBe('VOIDED');
    const charge = await server.prisma.sandboxCharge.findFirstOrThrow({
      where: {
        idempotencyKey: { startsWith: 'checkout:' },
        reference: (
          await server.prisma.payment.findFirstOrThrow({
            where: { orderId: (await server.prisma.order.findFirstOrThrow({ where: { number: order.number } })).id },
          })
        ).providerReference!,
      },
    });
    expect(charge.voided).toBe(true);
    const capture = await shop.refused('paymentCapture', { orderId: order.id, idempotencyKey: key('c') }, staff);
    expect(capture[0]!.code).toBe('INVALID');
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 5, stockReserved: 0 });
  });

  it('cancels after capture, refunding when asked', async () => {
    const mug = await shop.variant({ price: 1000, stock: 5 });
    const order = await shop.authorizedOrder([[mug, 1]]);
    await shop.done('paymentCapture', { orderId: order.id, idempotencyKey: key('c') }, staff);
    const now = (await shop.done('orderCancel', { orderId: order.id, refund: true }, staff)).order;
    expect(statuses(now)).toEqual(['CANCELLED', 'REFUNDED', 'UNFULFILLED']);
    expect(now.payment!.refunded).toEqual(now.payment!.captured);
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 5, stockReserved: 0 });
  });

  it('refunds part before shipping and still fulfils, ships and delivers, then closes', async () => {
    const mug = await shop.variant({ price: 1000, stock: 5 });
    const order = await shop.authorizedOrder([[mug, 3]]);
    await shop.done('paymentCapture', { orderId: order.id, idempotencyKey: key('c') }, staff);
    const line = order.lines[0]!;
    let now = (
      await shop.done(
        'paymentRefund',
        { orderId: order.id, lines: [{ orderLineId: line.id, quantity: 1, restock: true }], idempotencyKey: key('r') },
        staff,
      )
    ).order;
    expect(now.financialStatus).toBe('PARTIALLY_REFUNDED');
    expect(now.lines[0]).toMatchObject({ refundedQuantity: 1, fulfillableQuantity: 2 });
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 3, stockReserved: 0 });
    const packed = await shop.done('orderFulfill', { orderId: order.id, carrier: 'DHL', trackingNumber: 'T1' }, staff);
    expect(packed.order.fulfillmentStatus).toBe('FULFILLED');
    expect(packed.order.lines[0]).toMatchObject({ fulfilledQuantity: 2, fulfillableQuantity: 0 });
    const shipment = packed.fulfillment!.id;
    await shop.done('fulfillmentMarkShipped', { fulfillmentId: shipment }, staff);
    now = (await shop.done('fulfillmentMarkDelivered', { fulfillmentId: shipment }, staff)).order;
    expect(statuses(now)).toEqual(['CLOSED', 'PARTIALLY_REFUNDED', 'FULFILLED']);
    expect((await shop.refused('orderCancel', { orderId: order.id }, staff))[0]!.code).toBe('CONFLICT');
  });

  it('ships in parts: each shipment moves on its own', async () => {
    const mug = await shop.variant();
    const pen = await shop.variant();
    const order = await shop.authorizedOrder([
      [mug, 2],
      [pen, 1],
    ]);
    const [mugLine, penLine] = order.lines;
    const first = await shop.done(
      'orderFulfill',
      { orderId: order.id, lines: [{ orderLineId: mugLine!.id, quantity: 1 }], carrier: 'DHL', trackingNumber: 'A' },
      staff,
    );
    expect(first.order.fulfillmentStatus).toBe('PARTIALLY_FULFILLED');
    const second = await shop.done('orderFulfill', { orderId: order.id, carrier: 'UPS', trackingNumber: 'B' }, staff);
    expect(second.order.fulfillmentStatus).toBe('FULFILLED');
    expect(second.order.fulfillments).toHaveLength(2);
    expect(second.order.lines.map((l) => l.fulfilledQuantity)).toEqual([2, 1]);
    expect(penLine!.fulfillableQuantity).toBe(1);
    await shop.done('fulfillmentMarkShipped', { fulfillmentId: first.fulfillment!.id }, staff);
    const again = await shop.refused('fulfillmentMarkShipped', { fulfillmentId: first.fulfillment!.id }, staff);
    expect(again[0]!.code).toBe('CONFLICT');
    const nothingLeft = await shop.refused(
      'orderFulfill',
      { orderId: order.id, carrier: 'DHL', trackingNumber: 'C' },
      staff,
    );
    expect(nothingLeft[0]!.code).toBe('CONFLICT');
    // Something has shipped: the order can no longer be cancelled.
    expect((await shop.refused('orderCancel', { orderId: order.id }, staff))[0]!.code).toBe('CONFLICT');
  });

  it('refuses a reused idempotency key with another amount, refunding nothing new', async () => {
    const mug = await shop.variant({ price: 1000 });
    const order = await shop.authorizedOrder([[mug, 1]]);
    await shop.done('paymentCapture', { orderId: order.id, idempotencyKey: key('c') }, staff);
    const refundKey = key('r');
    await shop.done('paymentRefund', { orderId: order.id, amount: '1.00', idempotencyKey: refundKey }, staff);
    const replay = await shop.done(
      'paymentRefund',
      { orderId: order.id, amount: '1.00', idempotencyKey: refundKey },
      staff,
    );
    expect(replay.order.payment!.refunded.amount).toBe('1.00');
    const reused = await shop.refused(
      'paymentRefund',
      { orderId: order.id, amount: '2.00', idempotencyKey: refundKey },
      staff,
    );
    expect(reused[0]!.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
