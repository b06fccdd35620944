// Paying and shipping an order queue its customer's emails through the job queue (BullMQ when REDIS_URL is set).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;

beforeAll(async () => {
  server = await startTestServer();
  staff = await server.tokenFor('STAFF');
});
afterAll(() => server?.close());

const emailsTo = (to: string) => server.prisma.outboxEmail.findMany({ where: { to }, orderBy: { createdAt: 'asc' } });

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 150 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

async function paidOrder(email: string) {
  const order = await server.prisma.order.create({
    data: {
      email,
      status: 'PAID',
      currencyCode: 'USD',
      subtotalAmount: 2500,
      shippingAmount: 499,
      taxAmount: 0,
      totalAmount: 2999,
      shippingAddress: { firstName: 'A', lastName: 'B', line1: '1 St', city: 'X', postalCode: '1', countryCode: 'US' },
      shippingMethod: 'Standard',
      lines: {
        create: { sku: 'MUG-1', productTitle: 'Mug', variantTitle: 'Blue', unitPriceAmount: 2500, quantity: 1 },
      },
    },
  });
  return { ...order, gid: toGlobalId('Order', order.id) };
}

const move = (mutation: string, id: string, extra = '') =>
  server.gql(
    `mutation ($id: ID!) { ${mutation}(input: { orderId: $id${extra} }) { userErrors { code } } }`,
    { id },
    staff,
  );

describe('order emails', () => {
  it('sends a shipping notice with the tracking number once the order ships, and only once', async () => {
    const order = await paidOrder('shipped@example.test');
    await move('orderFulfill', order.gid, ', carrier: "DHL", trackingNumber: "JD0099"');
    expect(await emailsTo('shipped@example.test')).toEqual([]);

    await move('orderMarkShipped', order.gid);
    const emails = await eventually(
      () => emailsTo('shipped@example.test'),
      (list) => list.length > 0,
    );
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ subject: `Order #${order.number} is on its way` });
    expect(emails[0]!.body).toContain('tracking number JD0099');

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await emailsTo('shipped@example.test')).toHaveLength(1);
  });

  it('confirms an order once checkout has paid it, with its lines and total', async () => {
    await seedStoreSettings(server.prisma);
    const standard = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
    const variant = await server.prisma.productVariant.create({
      data: {
        sku: 'CUP-1',
        title: 'Red',
        priceAmount: 1000,
        stockOnHand: 5,
        product: { create: { title: 'Cup', slug: 'cup' } },
      },
    });
    const cart = await server.prisma.cart.create({
      data: {
        email: 'paid@example.test',
        shippingAddress: {
          firstName: 'A',
          lastName: 'B',
          line1: '1 St',
          city: 'X',
          postalCode: '10001',
          countryCode: 'US',
        },
        shippingMethodId: standard.id,
        lines: { create: { variantId: variant.id, quantity: 2 } },
      },
    });
    const res = await server.gql(
      `mutation ($cartId: ID!) {
        checkoutComplete(input: { cartId: $cartId, payment: { provider: "sandbox", token: "tok_visa" }, idempotencyKey: "emails-0001" }) {
          order { number status } userErrors { code }
        }
      }`,
      { cartId: toGlobalId('Cart', cart.id) },
    );
    const { number, status } = res.data.checkoutComplete.order;
    expect(status).toBe('PAID');

    const emails = await eventually(
      () => emailsTo('paid@example.test'),
      (list) => list.length > 0,
    );
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ subject: `Order #${number} confirmed` });
    expect(emails[0]!.body).toContain('2 × Cup (Red)');
    expect(emails[0]!.body).toContain('Total: 24.99 USD');
  });
});
