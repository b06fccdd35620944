// Unpaid orders hold their stock only until their reservation runs out; the recovery worker ends them, voiding the
// pending authorization, unless the processor says the payment went through meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { pendingPaymentOrder } from './support/orders.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let variantDbId: string;

beforeAll(async () => {
  server = await startTestServer();
  await seedStoreSettings(server.prisma);
  const staff = await server.tokenFor('STAFF');
  await server.gql(
    'mutation { productCreate(input: { title: "Lamp", variants: [{ sku: "LAMP-1", price: "20.00", inventoryQuantity: 5 }] }) { product { variants { id } } } }',
    {},
    staff,
  );
  variantDbId = (await server.prisma.productVariant.findUniqueOrThrow({ where: { sku: 'LAMP-1' } })).id;
});
afterAll(() => server?.close());

const pendingOrder = (quantity: number) => pendingPaymentOrder(server, variantDbId, { quantity });

const stock = () =>
  server.prisma.productVariant.findUniqueOrThrow({
    where: { id: variantDbId },
    select: { stockOnHand: true, stockReserved: true },
  });

const expire = (orderId: string) =>
  server.prisma.order.update({ where: { id: orderId }, data: { reservedUntil: new Date(Date.now() - 1000) } });

const chargeOf = async (orderId: string) => {
  const payment = await server.prisma.payment.findFirstOrThrow({ where: { orderId } });
  return server.prisma.sandboxCharge.findUniqueOrThrow({ where: { idempotencyKey: payment.idempotencyKey! } });
};

describe('reservation expiry', () => {
  it('cancels an unpaid order once its reservation has run out, voids its authorization and gives the stock back', async () => {
    const orderId = await pendingOrder(2);
    expect(await stock()).toEqual({ stockOnHand: 5, stockReserved: 2 });
    const { recovery } = server.runtime;

    expect(await recovery.expireReservations()).toBe(0); // still within its reservation
    await expire(orderId);
    expect(await recovery.expireReservations()).toBe(1);

    expect(await stock()).toEqual({ stockOnHand: 5, stockReserved: 0 });
    const after = await server.prisma.order.findUniqueOrThrow({
      where: { id: orderId },
      include: { events: { orderBy: { createdAt: 'asc' } }, payments: true },
    });
    expect(after).toMatchObject({ status: 'CANCELLED', financialStatus: 'VOIDED', reservedUntil: null });
    expect(after.payments.map((payment) => payment.status)).toEqual(['VOIDED']);
    expect((await chargeOf(orderId)).voided).toBe(true);
    expect(after.events.slice(-2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'FINANCIAL', fromStatus: 'PENDING', toStatus: 'VOIDED', accountId: null }),
        expect.objectContaining({ kind: 'STATUS', fromStatus: 'OPEN', toStatus: 'CANCELLED', accountId: null }),
      ]),
    );
    expect(await recovery.expireReservations()).toBe(0);
    // The cancellation says why: the reservation ran out.
    expect(after.events.find((event) => event.toStatus === 'CANCELLED')?.note).toBe(
      'reservation expired before the payment was confirmed',
    );
  });

  it('confirms instead of cancelling an order whose payment the processor authorized meanwhile', async () => {
    const before = await stock();
    const orderId = await pendingOrder(1);
    await expire(orderId);
    // The processor authorized it, but its webhook never arrived.
    const charge = await chargeOf(orderId);
    await server.prisma.sandboxCharge.update({
      where: { idempotencyKey: charge.idempotencyKey },
      data: { status: 'authorized' },
    });

    expect((await server.runtime.recovery.pass()).reservations).toBe(0);

    const after = await server.prisma.order.findUniqueOrThrow({ where: { id: orderId }, include: { payments: true } });
    expect(after).toMatchObject({ status: 'OPEN', financialStatus: 'AUTHORIZED', reservedUntil: null });
    expect(after.payments.map((payment) => payment.status)).toEqual(['AUTHORIZED']);
    expect((await chargeOf(orderId)).voided).toBe(false);
    expect(await stock()).toEqual({ stockOnHand: before.stockOnHand - 1, stockReserved: before.stockReserved });
    expect(await server.runtime.recovery.expireReservations()).toBe(0);
  });
});
