// Lists a customer grows, capped so that what one customer can read back (and what its cost assumes) is bounded: at
// most 50 addresses per account, 100 distinct lines per cart, and 100 lines per cart mutation. Past a cap the answer
// is a LIMIT_REACHED user error and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/graphql/globalId.js';
import type { TestServer } from '../support/testServer.js';
import { bearer, gql, startProductionServer, uuid } from './support.js';

let server: TestServer;
const VARIANTS = 102;
const variantId = (i: number) => toGlobalId('ProductVariant', uuid(1000 + i));

beforeAll(async () => {
  server = await startProductionServer();
  await server.prisma.product.create({ data: { id: uuid(1), title: 'Button', slug: 'button', description: '' } });
  await server.prisma.productVariant.createMany({
    data: Array.from({ length: VARIANTS }, (_, i) => ({
      id: uuid(1000 + i),
      productId: uuid(1),
      sku: `BUTTON-${i}`,
      title: `No. ${i}`,
      priceAmount: 100,
      stockOnHand: 1000,
      position: i,
    })),
  });
});
afterAll(() => server?.close());

const limitReached = (field: string[] | null, message: string) => [{ field, code: 'LIMIT_REACHED', message }];

describe('addresses', () => {
  const ADDRESS = { firstName: 'A', lastName: 'B', line1: 'C', city: 'D', postalCode: '1', countryCode: 'DE' };
  const CREATE = `mutation ($input: CustomerAddressCreateInput!) {
    customerAddressCreate(input: $input) { address { id } userErrors { field code message } } }`;

  async function customerWith(addresses: number) {
    const { accountId } = await server.sessionFor('CUSTOMER');
    await server.prisma.address.createMany({
      data: Array.from({ length: addresses }, () => ({ ...ADDRESS, accountId })),
    });
    return { accountId, auth: bearer(await server.tokenFor('CUSTOMER', { accountId })) };
  }
  const create = (auth: Record<string, string>) => gql(server, CREATE, { input: { address: ADDRESS } }, auth);

  it('keeps at most 50 per account: the 51st is LIMIT_REACHED', async () => {
    const { accountId, auth } = await customerWith(49);
    const fiftieth = await create(auth);
    expect(fiftieth.body.data.customerAddressCreate.userErrors).toEqual([]);
    const refused = await create(auth);
    expect(refused.body.data.customerAddressCreate).toEqual({
      address: null,
      userErrors: limitReached(null, 'An account keeps at most 50 addresses; delete one to add another.'),
    });
    expect(await server.prisma.address.count({ where: { accountId } })).toBe(50);
  });

  it('holds the cap under concurrent creates', async () => {
    const { accountId, auth } = await customerWith(48);
    const results = await Promise.all(Array.from({ length: 6 }, () => create(auth)));
    const created = results.filter((res) => res.body.data.customerAddressCreate.address !== null);
    expect(created).toHaveLength(2);
    expect(await server.prisma.address.count({ where: { accountId } })).toBe(50);
  });
});

describe('cart lines', () => {
  const USER_ERRORS = 'userErrors { field code message }';
  const lines = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ variantId: variantId(from + i), quantity: 1 }));
  const createCart = async (count: number) => {
    const res = await gql(
      server,
      `mutation ($lines: [CartLineInput!]) { cartCreate(input: { lines: $lines }) { cart { id } ${USER_ERRORS} } }`,
      { lines: lines(0, count) },
    );
    return res.body.data.cartCreate;
  };
  const add = (cartId: string, added: unknown[]) =>
    gql(
      server,
      `mutation ($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { cart { totalQuantity } ${USER_ERRORS} } }`,
      { input: { cartId, lines: added } },
    );
  const perRequest = limitReached(['input', 'lines'], 'At most 100 lines can be sent at once.');

  it('keeps at most 100 distinct lines in a cart: one more is LIMIT_REACHED', async () => {
    const { cart, userErrors } = await createCart(100);
    expect(userErrors).toEqual([]);
    const res = await add(cart.id, lines(100, 1));
    expect(res.body.data.cartLinesAdd).toEqual({
      cart: null,
      userErrors: limitReached(['input', 'lines'], 'A cart holds at most 100 lines.'),
    });
    // more of a variant already in it is not another line
    expect((await add(cart.id, lines(0, 1))).body.data.cartLinesAdd.cart).toEqual({ totalQuantity: 101 });
  });

  it('takes at most 100 lines per cartCreate and cartLinesAdd', async () => {
    expect(await createCart(101)).toEqual({ cart: null, userErrors: perRequest });
    const { cart } = await createCart(1);
    const sameVariant = Array.from({ length: 101 }, () => ({ variantId: variantId(0), quantity: 1 }));
    expect((await add(cart.id, sameVariant)).body.data.cartLinesAdd).toEqual({ cart: null, userErrors: perRequest });
  });

  it('takes at most 100 lines per cartLinesUpdate', async () => {
    const { cart } = await createCart(1);
    const changes = Array.from({ length: 101 }, (_, i) => ({ id: toGlobalId('CartLine', uuid(i)), quantity: 1 }));
    const res = await gql(
      server,
      `mutation ($input: CartLinesUpdateInput!) { cartLinesUpdate(input: $input) { cart { id } ${USER_ERRORS} } }`,
      { input: { cartId: cart.id, lines: changes } },
    );
    expect(res.body.data.cartLinesUpdate).toEqual({ cart: null, userErrors: perRequest });
  });
});
