// Cart inputs a hostile or careless client can send: the same line named twice in one call, and quantities and
// prices whose totals would not fit the order's int4 amount columns. Each is answered with userErrors (or merged
// deterministically), changing nothing, never with a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commerce, USER_ERRORS, type Variant } from './support/commerce.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

let server: TestServer;
let shop: ReturnType<typeof commerce>;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
});
afterAll(() => server?.close());

const INT4_MAX = 2_147_483_647;
const LINES = 'lines { id quantity merchandise { sku } }';

function mutate(name: string, input: Record<string, unknown>): Promise<GraphQLResponse> {
  const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
  return server.gql(
    `mutation ($input: ${inputType}!) { ${name}(input: $input) { cart { id ${LINES} } ${USER_ERRORS} } }`,
    { input },
  );
}

const storedLines = () => server.prisma.cartLine.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

/** The payload of a mutation that must be refused with `codes`, leaving every cart line as it was. */
async function refused(name: string, input: Record<string, unknown>, codes: string[]) {
  const before = await storedLines();
  const res = await mutate(name, input);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.data[name].cart).toBeNull();
  expect(res.data[name].userErrors.map((e: { code: string }) => e.code)).toEqual(codes);
  expect(await storedLines()).toEqual(before);
  return res.data[name].userErrors as { field: string[]; code: string; message: string }[];
}

/** A cart with these lines; returns its ID and its lines' IDs in order. */
async function cartWith(lines: [Variant, number][]) {
  const res = await mutate('cartCreate', { lines: lines.map(([v, quantity]) => ({ variantId: v.gid, quantity })) });
  expect(res.data.cartCreate.userErrors).toEqual([]);
  const cart = res.data.cartCreate.cart as { id: string; lines: { id: string; quantity: number }[] };
  return { id: cart.id, lineIds: cart.lines.map((line) => line.id) };
}

describe('the same line twice in one call', () => {
  it('cartLinesUpdate answers DUPLICATE for a line removed twice', async () => {
    const cart = await cartWith([[await shop.variant(), 2]]);
    const [line] = cart.lineIds;
    const errors = await refused(
      'cartLinesUpdate',
      {
        cartId: cart.id,
        lines: [
          { id: line, quantity: 0 },
          { id: line, quantity: 0 },
        ],
      },
      ['DUPLICATE'],
    );
    expect(errors[0]!.field).toEqual(['input', 'lines', '1', 'id']);
  });

  it('cartLinesUpdate answers DUPLICATE for a line given two quantities, in either order', async () => {
    const cart = await cartWith([[await shop.variant(), 2]]);
    const [line] = cart.lineIds;
    for (const quantities of [
      [3, 5],
      [0, 4],
      [4, 0],
    ]) {
      const lines = quantities.map((quantity) => ({ id: line, quantity }));
      await refused('cartLinesUpdate', { cartId: cart.id, lines }, ['DUPLICATE']);
    }
  });

  it('cartLinesRemove removes a line named twice once', async () => {
    const cart = await cartWith([
      [await shop.variant(), 1],
      [await shop.variant(), 1],
    ]);
    const [first, second] = cart.lineIds;
    const res = await mutate('cartLinesRemove', { cartId: cart.id, lineIds: [first, first] });
    expect(res.errors).toBeUndefined();
    expect(res.data.cartLinesRemove.userErrors).toEqual([]);
    expect(res.data.cartLinesRemove.cart.lines.map((l: { id: string }) => l.id)).toEqual([second]);
  });

  it('cartLinesAdd sums a variant named twice into one line', async () => {
    const variant = await shop.variant();
    const cart = await cartWith([]);
    const res = await mutate('cartLinesAdd', {
      cartId: cart.id,
      lines: [
        { variantId: variant.gid, quantity: 2 },
        { variantId: variant.gid, quantity: 3 },
      ],
    });
    expect(res.data.cartLinesAdd.userErrors).toEqual([]);
    expect(res.data.cartLinesAdd.cart.lines).toEqual([
      expect.objectContaining({ quantity: 5, merchandise: { sku: variant.sku } }),
    ]);
  });
});

describe('totals that would not fit an order', () => {
  it('refuses a huge quantity as INVALID', async () => {
    const costly = await shop.variant({ price: INT4_MAX, stock: INT4_MAX });
    const cart = await cartWith([]);
    await refused('cartLinesAdd', { cartId: cart.id, lines: [{ variantId: costly.gid, quantity: INT4_MAX }] }, [
      'INVALID',
    ]);
  });

  it('refuses two units of the most expensive variant, whose line alone overflows', async () => {
    const costly = await shop.variant({ price: INT4_MAX });
    const errors = await refused('cartCreate', { lines: [{ variantId: costly.gid, quantity: 2 }] }, ['LIMIT_REACHED']);
    expect(errors[0]!.field).toEqual(['input', 'lines']);
    expect(errors[0]!.message).toMatch(/at most 1000000000 minor units/);
  });

  it('refuses lines whose sum overflows, added at once or one by one', async () => {
    const variants = [
      await shop.variant({ price: 400_000_000 }),
      await shop.variant({ price: 400_000_000 }),
      await shop.variant({ price: 400_000_000 }),
    ];
    const all = variants.map((v) => ({ variantId: v.gid, quantity: 1 }));
    await refused('cartCreate', { lines: all }, ['LIMIT_REACHED']);
    const cart = await cartWith([
      [variants[0]!, 1],
      [variants[1]!, 1],
    ]);
    await refused('cartLinesAdd', { cartId: cart.id, lines: [all[2]] }, ['LIMIT_REACHED']);
    const lines = cart.lineIds.map((id) => ({ id, quantity: 2 }));
    await refused('cartLinesUpdate', { cartId: cart.id, lines }, ['LIMIT_REACHED']);
  });

  it('accepts goods costing exactly the limit, and not one minor unit more', async () => {
    const variant = await shop.variant({ price: 20_000_000 });
    const cart = await cartWith([[variant, 50]]);
    const penny = await shop.variant({ price: 1 });
    await refused('cartLinesAdd', { cartId: cart.id, lines: [{ variantId: penny.gid, quantity: 1 }] }, [
      'LIMIT_REACHED',
    ]);
  });

  it('answers a checkout whose total grew past an int4 since the cart was filled with a userError', async () => {
    const variant = await shop.variant({ price: 1000 });
    const cartId = await shop.cart([[variant, 50]]);
    await server.prisma.productVariant.update({ where: { id: variant.id }, data: { priceAmount: INT4_MAX } });
    const res = await shop.checkout(cartId);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.checkoutComplete).toMatchObject({
      order: null,
      userErrors: [{ field: ['input', 'cartId'], code: 'LIMIT_REACHED' }],
    });
    expect(await shop.stockOf(variant)).toEqual({ stockOnHand: 100, stockReserved: 0 });
  });
});
