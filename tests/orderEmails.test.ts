// Order emails go through the outbox: the relay queues each one (BullMQ when REDIS_URL is set) right after the change,
// so tests wait for them. A confirmation once the payment is authorized (or a free order paid), a shipping notice per
// shipment once it leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { commerce, deliverWebhook, eventually, newKey, webhookBody } from './support/commerce.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;
let shop: ReturnType<typeof commerce>;

beforeAll(async () => {
  server = await startTestServer();
  staff = await server.tokenFor('STAFF');
  shop = commerce(server);
});
afterAll(() => server?.close());

const emailsTo = (to: string) => server.prisma.outboxEmail.findMany({ where: { to }, orderBy: { createdAt: 'asc' } });

/** Waits for `count` emails to `to`, then makes sure no more come: delivers what is due and waits a little. */
async function exactlyEmails(to: string, count: number) {
  await eventually(
    () => emailsTo(to),
    (list) => list.length >= count,
  );
  await server.runtime.relay.flush();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const emails = await emailsTo(to);
  expect(emails).toHaveLength(count);
  return emails;
}

/** A placed order with its payment captured (OPEN, PAID), written straight to the database. */
async function paidOrder(email: string, quantity = 1) {
  const order = await server.prisma.order.create({
    data: {
      email,
      status: 'OPEN',
      financialStatus: 'PAID',
      currencyCode: 'USD',
      subtotalAmount: 2500 * quantity,
      shippingAmount: 499,
      taxAmount: 0,
      totalAmount: 2500 * quantity + 499,
      shippingAddress: { firstName: 'A', lastName: 'B', line1: '1 St', city: 'X', postalCode: '1', countryCode: 'US' },
      shippingMethod: 'Standard',
      lines: {
        create: { sku: 'MUG-1', productTitle: 'Mug', variantTitle: 'Blue', unitPriceAmount: 2500, quantity },
      },
    },
    include: { lines: true },
  });
  return { ...order, gid: toGlobalId('Order', order.id) };
}

async function fulfil(orderId: string, carrier: string, trackingNumber: string, lines?: unknown[]) {
  const { fulfillment } = await shop.done(
    'orderFulfill',
    { orderId, carrier, trackingNumber, ...(lines && { lines }) },
    staff,
  );
  return fulfillment!.id;
}

const ship = (fulfillmentId: string) => shop.done('fulfillmentMarkShipped', { fulfillmentId }, staff);

describe('order emails', () => {
  it('sends a shipping notice with the carrier and tracking number once the shipment ships, and only once', async () => {
    const order = await paidOrder('shipped@example.test');
    const shipment = await fulfil(order.gid, 'DHL', 'JD0099');
    await server.runtime.relay.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await emailsTo('shipped@example.test')).toEqual([]); // packed is not shipped

    await ship(shipment);
    const emails = await exactlyEmails('shipped@example.test', 1);
    expect(emails[0]).toMatchObject({ subject: `Order #${order.number} is on its way` });
    expect(emails[0]!.body).toContain('DHL');
    expect(emails[0]!.body).toContain('tracking number JD0099');

    // delivering it sends nothing more
    await shop.done('fulfillmentMarkDelivered', { fulfillmentId: shipment }, staff);
    await exactlyEmails('shipped@example.test', 1);
  });

  it('sends one notice per shipment, each naming its own carrier and tracking number', async () => {
    const order = await paidOrder('split@example.test', 2);
    const lineId = toGlobalId('OrderLine', order.lines[0]!.id);
    const first = await fulfil(order.gid, 'DHL', 'JD0101', [{ orderLineId: lineId, quantity: 1 }]);
    await ship(first);
    const [one] = await exactlyEmails('split@example.test', 1);
    expect(one!.body).toContain('DHL');
    expect(one!.body).toContain('tracking number JD0101');

    const second = await fulfil(order.gid, 'UPS', '1Z0202');
    await ship(second);
    const emails = await exactlyEmails('split@example.test', 2);
    expect(emails.map((email) => email.subject)).toEqual([
      `Order #${order.number} is on its way`,
      `Order #${order.number} is on its way`,
    ]);
    expect(emails[1]!.body).toContain('UPS');
    expect(emails[1]!.body).toContain('tracking number 1Z0202');
  });

  it('confirms an order once checkout has authorized its payment, with its lines and total', async () => {
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
          order { number status financialStatus } userErrors { code }
        }
      }`,
      { cartId: toGlobalId('Cart', cart.id) },
    );
    const { number, ...statuses } = res.data.checkoutComplete.order;
    expect(statuses).toEqual({ status: 'OPEN', financialStatus: 'AUTHORIZED' });

    const emails = await exactlyEmails('paid@example.test', 1);
    expect(emails[0]).toMatchObject({ subject: `Order #${number} confirmed` });
    expect(emails[0]!.body).toContain('2 × Cup (Red)');
    expect(emails[0]!.body).toContain('Total: 24.99 USD');
  });

  it('confirms an order whose payment waited for the processor only once the processor authorizes it', async () => {
    const email = `pending-${newKey()}@example.test`;
    const variant = await shop.variant({ price: 1500 });
    const order = await shop.placed(await shop.cart([[variant, 1]], { email }), { card: 'tok_requires_action' });
    expect(order).toMatchObject({ status: 'OPEN', financialStatus: 'PENDING' });
    await server.runtime.relay.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await emailsTo(email)).toEqual([]);

    const payment = await server.prisma.payment.findFirstOrThrow({
      where: { orderId: (await server.prisma.order.findFirstOrThrow({ where: { email } })).id },
    });
    const body = webhookBody('payment.authorized', payment.providerReference, payment.amount);
    expect((await deliverWebhook(server, { body })).status).toBe(200);

    const emails = await exactlyEmails(email, 1);
    expect(emails[0]).toMatchObject({ subject: `Order #${order.number} confirmed` });
    expect(emails[0]!.body).toContain(`1 × ${variant.productTitle} (${variant.variantTitle})`);
  });

  it('sends nothing for a declined checkout', async () => {
    const email = `declined-${newKey()}@example.test`;
    const variant = await shop.variant();
    const res = await shop.checkout(await shop.cart([[variant, 1]], { email }), { card: 'tok_card_declined' });
    expect(res.data.checkoutComplete.order).toBeNull();
    await server.runtime.relay.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await emailsTo(email)).toEqual([]);
  });
});
