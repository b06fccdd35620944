// Orders in a given state for tests that start from one, without a whole checkout through the API each time.
import { expect } from 'vitest';
import { parseGlobalId, toGlobalId } from '../../src/graphql/globalId.js';
import type { TestServer } from './testServer.js';

/** A placed, paid order of the account, written straight to the database (without a payment row); its global ID. */
export async function paidOrderOf(server: TestServer, accountId: string): Promise<string> {
  const order = await server.prisma.order.create({
    data: {
      accountId,
      email: 'buyer@example.test',
      status: 'OPEN',
      financialStatus: 'PAID',
      currencyCode: 'USD',
      subtotalAmount: 1000,
      shippingAmount: 0,
      taxAmount: 0,
      totalAmount: 1000,
      shippingAddress: { firstName: 'A', lastName: 'B', line1: '1 St', city: 'X', postalCode: '1', countryCode: 'US' },
      shippingMethod: 'Standard',
    },
  });
  return toGlobalId('Order', order.id);
}

/** A guest checkout of `quantity` units of the variant (a database ID) whose payment waits for confirmation (the
 * sandbox's tok_requires_action), its stock reserved; the order's database ID. Needs the store's shipping methods. */
export async function pendingPaymentOrder(
  server: TestServer,
  variantId: string,
  { quantity = 1, email = 'guest@example.test' }: { quantity?: number; email?: string } = {},
): Promise<string> {
  const standard = await server.prisma.shippingMethod.findUniqueOrThrow({ where: { name: 'Standard' } });
  const cart = await server.prisma.cart.create({
    data: {
      email,
      shippingAddress: {
        firstName: 'G',
        lastName: 'H',
        line1: '1 St',
        city: 'Berlin',
        postalCode: '10115',
        countryCode: 'DE',
      },
      shippingMethodId: standard.id,
      lines: { create: { variantId, quantity } },
    },
  });
  const res = await server.gql(
    `mutation ($cartId: ID!, $key: String!) {
      checkoutComplete(input: { cartId: $cartId, payment: { provider: "sandbox", token: "tok_requires_action" }, idempotencyKey: $key }) {
        order { id status financialStatus } userErrors { code message }
      }
    }`,
    { cartId: toGlobalId('Cart', cart.id), key: `pending-${cart.id}` },
  );
  expect(res.data.checkoutComplete.userErrors).toEqual([]);
  expect(res.data.checkoutComplete.order).toMatchObject({ status: 'OPEN', financialStatus: 'PENDING' });
  return parseGlobalId(res.data.checkoutComplete.order.id)!.id;
}
