// Unpaid orders hold their stock only until their reservation runs out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { OrderService } from '../src/modules/order/service.js';
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

describe('reservation expiry', () => {
  it('cancels an unpaid order once its reservation has run out, and gives the stock back', async () => {
    const orderId = await pendingOrder(2);
    expect(await stock()).toEqual({ stockOnHand: 5, stockReserved: 2 });
    const orders = new OrderService(server.prisma);

    expect(await orders.expireReservations()).toBe(0); // still within its reservation
    await server.prisma.order.update({ where: { id: orderId }, data: { reservedUntil: new Date(Date.now() - 1000) } });
    expect(await orders.expireReservations()).toBe(1);

    expect(await stock()).toEqual({ stockOnHand: 5, stockReserved: 0 });
    const after = await server.prisma.order.findUniqueOrThrow({ where: { id: orderId }, include: { events: true } });
    expect(after.status).toBe('CANCELLED');
    expect(after.events.at(-1)).toMatchObject({
      fromStatus: 'PENDING_PAYMENT',
      toStatus: 'CANCELLED',
      accountId: null,
      note: 'reservation expired before the payment was confirmed',
    });
    expect(await orders.expireReservations()).toBe(0);
  });
});
