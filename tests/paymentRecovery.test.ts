// Payment operations and pending payments whose process died, or whose news was lost, settled by the recovery
// worker: it asks the processor what happened and records it, or gives the hold back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commerce, dbId, ORDER_QUERY } from './support/commerce.js';
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

const readOrder = async (id: string) => (await server.gql(ORDER_QUERY, { id }, staff)).data.order;

/** A capture claimed by a process that died before it heard from the processor: the row and the hold it left. */
async function strandedCapture(orderId: string, amount: number, { reachedProcessor }: { reachedProcessor: boolean }) {
  const payment = await server.prisma.payment.findFirstOrThrow({ where: { orderId: dbId(orderId, 'Order') } });
  const key = `stranded-${crypto.randomUUID()}`;
  await server.prisma.$transaction([
    server.prisma.paymentOperation.create({
      data: {
        key,
        paymentId: payment.id,
        kind: 'CAPTURE',
        amount,
        fingerprint: 'x',
        leaseUntil: new Date(Date.now() - 1000),
      },
    }),
    server.prisma.payment.update({ where: { id: payment.id }, data: { capturedAmount: { increment: amount } } }),
  ]);
  if (reachedProcessor) {
    // What the processor recorded before the process died.
    await server.prisma.sandboxRequest.create({ data: { key: `operation:${key}` } });
    await server.prisma.sandboxCharge.update({
      where: { reference: payment.providerReference! },
      data: { captured: { increment: amount } },
    });
  }
  return { key, paymentId: payment.id };
}

describe('a payment operation whose process died', () => {
  it('is recorded when the processor did it: the order moves, the operation succeeds', async () => {
    const order = await shop.authorizedOrder([[await shop.variant({ price: 1000 }), 1]]);
    const { key } = await strandedCapture(order.id, 300, { reachedProcessor: true });
    expect((await readOrder(order.id)).financialStatus).toBe('AUTHORIZED');
    expect(await server.runtime.recovery.pass()).toMatchObject({ operations: 1 });
    const now = await readOrder(order.id);
    expect(now.financialStatus).toBe('PARTIALLY_PAID');
    expect(now.payment.captured.amount).toBe('3.00');
    expect(now.events.at(-1)).toMatchObject({ kind: 'FINANCIAL', from: 'AUTHORIZED', to: 'PARTIALLY_PAID' });
    expect(await server.prisma.paymentOperation.findUniqueOrThrow({ where: { key } })).toMatchObject({
      status: 'SUCCEEDED',
    });
  });

  it('is undone when the processor never saw it: the hold goes back and the key is free again', async () => {
    const order = await shop.authorizedOrder([[await shop.variant({ price: 1000 }), 1]]);
    const { key, paymentId } = await strandedCapture(order.id, 300, { reachedProcessor: false });
    expect(await server.runtime.recovery.pass()).toMatchObject({ operations: 1 });
    expect(await server.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).toMatchObject({
      capturedAmount: 0,
      status: 'AUTHORIZED',
    });
    expect(await server.prisma.paymentOperation.findUnique({ where: { key } })).toBeNull();
    expect((await readOrder(order.id)).financialStatus).toBe('AUTHORIZED');
  });

  it('answers a same-key retry while the lease holds with CONFLICT, and after it with the real outcome', async () => {
    const order = await shop.authorizedOrder([[await shop.variant({ price: 1000 }), 1]]);
    const { key } = await strandedCapture(order.id, 300, { reachedProcessor: true });
    await server.prisma.paymentOperation.update({
      where: { key },
      data: { leaseUntil: new Date(Date.now() + 60_000), fingerprint: await fingerprintOf(order.id) },
    });
    const running = await shop.refused('paymentCapture', { orderId: order.id, idempotencyKey: key }, staff);
    expect(running[0]).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('still running') });
    await server.prisma.paymentOperation.update({ where: { key }, data: { leaseUntil: new Date(Date.now() - 1) } });
    // The replay is the operation the key stands for (the 3.00 the dead process claimed), recorded once.
    const settled = await shop.done('paymentCapture', { orderId: order.id, idempotencyKey: key }, staff);
    expect(settled.order.financialStatus).toBe('PARTIALLY_PAID');
    expect(settled.order.payment!.captured.amount).toBe('3.00');
    const again = await shop.done('paymentCapture', { orderId: order.id, idempotencyKey: key }, staff);
    expect(again.order.payment!.captured.amount).toBe('3.00');
  });
});

/** The fingerprint the API gives a full capture of this order (so the stranded row is "the same request"). */
async function fingerprintOf(orderId: string) {
  const { createHash } = await import('node:crypto');
  const parts = { kind: 'CAPTURE', orderId: dbId(orderId, 'Order'), amount: null, final: false };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

describe('a reservation whose payment news was lost', () => {
  it('is confirmed at expiry when the processor says it was authorized (the webhook never came)', async () => {
    const mug = await shop.variant({ stock: 3 });
    const cartId = await shop.cart([[mug, 1]]);
    const order = await shop.placed(cartId, { card: 'tok_requires_action' });
    expect(order.financialStatus).toBe('PENDING');
    const payment = await server.prisma.payment.findFirstOrThrow({ where: { orderId: dbId(order.id, 'Order') } });
    // The customer completed 3-D Secure; the processor's webhook was lost on the way.
    await server.prisma.sandboxCharge.update({
      where: { idempotencyKey: payment.idempotencyKey! },
      data: { status: 'authorized' },
    });
    const reservations = await server.runtime.recovery.expireReservations(new Date(Date.now() + 31 * 60_000));
    expect(reservations).toBe(0);
    const now = await readOrder(order.id);
    expect([now.status, now.financialStatus]).toEqual(['OPEN', 'AUTHORIZED']);
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 2, stockReserved: 0 });
  });

  it('is cancelled at expiry otherwise, its pending authorization voided so nothing is charged later', async () => {
    const mug = await shop.variant({ stock: 3 });
    const order = await shop.placed(await shop.cart([[mug, 2]]), { card: 'tok_requires_action' });
    expect(await server.runtime.recovery.expireReservations(new Date(Date.now() + 31 * 60_000))).toBe(1);
    const now = await readOrder(order.id);
    expect([now.status, now.financialStatus]).toEqual(['CANCELLED', 'VOIDED']);
    expect(await shop.stockOf(mug)).toEqual({ stockOnHand: 3, stockReserved: 0 });
    const payment = await server.prisma.payment.findFirstOrThrow({ where: { orderId: dbId(order.id, 'Order') } });
    const charge = await server.prisma.sandboxCharge.findUniqueOrThrow({
      where: { idempotencyKey: payment.idempotencyKey! },
    });
    expect(charge.voided).toBe(true);
  });
});
