// Checkout under contention, over HTTP: many shoppers completing at once must never oversell, never charge anyone
// without an order, never deadlock, and never turn one cart or one idempotency key into two orders. An approved
// checkout places an OPEN order whose payment is AUTHORIZED; a declined one leaves only a hidden ABANDONED row with
// no order number. On the embedded database the requests queue for its single connection; on real PostgreSQL
// (DATABASE_URL) they truly race.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '../src/generated/prisma/client.js';
import { databaseIdOf, toGlobalId } from '../src/graphql/globalId.js';
import { commerce, newKey, type UserError, type Variant } from './support/commerce.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

const REAL_POSTGRES = Boolean(process.env.DATABASE_URL);
const SHOPPERS = 200;

let server: TestServer;
let shop: ReturnType<typeof commerce>;
/** What a cart built through the API stores for its buyer: a Berlin address and the Standard method. */
let buyer: Awaited<ReturnType<typeof buyerFieldsFromTheApi>>;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  buyer = await buyerFieldsFromTheApi();
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL plumbing

interface Payload {
  order: {
    id: string;
    number: number;
    status: string;
    financialStatus: string;
    lines: { sku: string; quantity: number }[];
  } | null;
  userErrors: UserError[];
}

/** Sends every request at once and waits for all of them: the responses, in order, and how long it took. */
async function race(requests: (() => Promise<GraphQLResponse>)[]) {
  const started = performance.now();
  const responses = await Promise.all(requests.map((send) => send()));
  return { responses, elapsed: Math.round(performance.now() - started) };
}

/** The payloads of responses that must all have answered without GraphQL errors (a deadlock, a timeout or any
 * other failure would be an INTERNAL_SERVER_ERROR here). */
function payloadsOf(responses: GraphQLResponse[]): Payload[] {
  expect(responses.map((res) => res.errors?.map((e) => e.extensions?.code) ?? null)).toEqual(responses.map(() => null));
  return responses.map((res) => res.data.checkoutComplete);
}

const insufficient = (sku: string): UserError => ({
  field: ['input', 'cartId'],
  code: 'INSUFFICIENT_STOCK',
  message: expect.stringMatching(new RegExp(`^${sku}: only \\d+ available\\.$`)),
});

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: variants, and carts ready for checkout written straight to the database

interface Cart {
  gid: string;
  email: string;
}

/** Builds one cart through cartCreate, cartBuyerIdentityUpdate and cartShippingMethodSelect, and returns the buyer
 * fields it stored, for the carts below to copy. */
async function buyerFieldsFromTheApi() {
  const cartId = await shop.cart([], { email: 'template@example.test' });
  const row = await server.prisma.cart.delete({ where: { id: databaseIdOf(cartId, 'Cart')! } });
  return { shippingAddress: row.shippingAddress as Prisma.InputJsonObject, shippingMethodId: row.shippingMethodId! };
}

/** Guest carts, one per list of lines (kept in the order given), each with its own email. */
async function prepareCarts(lineLists: [Variant, number][][]): Promise<Cart[]> {
  const carts = lineLists.map((lines) => ({ id: randomUUID(), email: `shopper-${randomUUID()}@example.test`, lines }));
  await server.prisma.cart.createMany({
    data: carts.map(({ id, email }) => ({ id, email, ...buyer })),
  });
  await server.prisma.cartLine.createMany({
    data: carts.flatMap(({ id, lines }) =>
      lines.map(([variant, quantity]) => ({ cartId: id, variantId: variant.id, quantity })),
    ),
  });
  return carts.map(({ id, email }) => ({ gid: toGlobalId('Cart', id), email }));
}

// Database reads

/** Every order row with a line of `variant` (hidden ones too), with its lines and payments. */
const ordersWith = (variant: Variant) =>
  server.prisma.order.findMany({
    where: { lines: { some: { variantId: variant.id } } },
    include: { lines: true, payments: true },
    orderBy: { number: 'asc' },
  });

const ordersOf = (cart: Cart) =>
  server.prisma.order.findMany({ where: { email: cart.email }, include: { payments: true } });

const ledgerOf = (variant: Variant) =>
  server.prisma.inventoryChange.findMany({ where: { variantId: variant.id }, orderBy: { before: 'desc' } });

const cartsLeft = (carts: Cart[]) =>
  server.prisma.cart.count({ where: { id: { in: carts.map((cart) => databaseIdOf(cart.gid, 'Cart')!) } } });

/** A small seeded random generator (mulberry32), so a failing line order can be reproduced. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tally = (values: string[]) =>
  Object.fromEntries([...new Set(values)].map((value) => [value, values.filter((v) => v === value).length]));

// ---------------------------------------------------------------------------------------------------------------

describe('concurrent checkouts', () => {
  it(`${SHOPPERS} shoppers, 10 units: exactly 10 orders placed, every other shopper refused, nobody charged without an order`, async () => {
    const stock = 10;
    const variant = await shop.variant({ stock, price: 2500 });
    const carts = await prepareCarts(Array.from({ length: SHOPPERS }, () => [[variant, 1]]));
    const keys = carts.map(() => newKey());

    const { responses, elapsed } = await race(carts.map((cart, i) => () => shop.checkout(cart.gid, { key: keys[i] })));

    const payloads = payloadsOf(responses);
    const paid = payloads.filter((payload) => payload.order);
    const refused = payloads.filter((payload) => !payload.order);
    const final = await shop.stockOf(variant);
    console.log(
      `checkout race (${REAL_POSTGRES ? 'PostgreSQL' : 'PGlite'}): ${SHOPPERS} shoppers, stock ${stock}, ` +
        `${paid.length} orders placed, final stock ${final.stockOnHand} on hand / ${final.stockReserved} reserved, ` +
        `${elapsed} ms; refusals ${JSON.stringify(tally(refused.map((p) => p.userErrors.map((e) => e.message).join())))}`,
    );

    expect(paid).toHaveLength(stock);
    expect(paid.map(({ order }) => [order!.status, order!.financialStatus])).toEqual(
      paid.map(() => ['OPEN', 'AUTHORIZED']),
    );
    expect(paid.map((payload) => payload.userErrors)).toEqual(paid.map(() => []));
    expect(refused).toEqual(refused.map(() => ({ order: null, userErrors: [insufficient(variant.sku)] })));
    expect(final).toEqual({ stockOnHand: 0, stockReserved: 0 });

    // the database agrees: 10 placed orders of one unit, each with one authorized payment and a number of its own,
    // and no other order row (a checkout refused for stock leaves none)
    const orders = await ordersWith(variant);
    expect(orders.map((order) => order.id).sort()).toEqual(
      paid.map((payload) => databaseIdOf(payload.order!.id, 'Order')).sort(),
    );
    expect(
      orders.map((order) => [
        order.status,
        order.financialStatus,
        order.lines.map((l) => l.quantity),
        order.payments.map((p) => p.status),
      ]),
    ).toEqual(orders.map(() => ['OPEN', 'AUTHORIZED', [1], ['AUTHORIZED']]));
    expect(new Set(orders.map((order) => order.number)).size).toBe(stock);
    expect(orders.every((order) => order.number !== null)).toBe(true);
    expect(
      await server.prisma.payment.count({ where: { order: { lines: { some: { variantId: variant.id } } } } }),
    ).toBe(stock);
    // and the processor authorized exactly the 10 placed: a shopper refused for stock was never charged
    expect(
      await server.prisma.sandboxCharge.count({
        where: { idempotencyKey: { in: keys.map((key) => `checkout:${key}`) } },
      }),
    ).toBe(stock);
    // the ledger counts down from 10 to 0, one entry per order
    const ledger = await ledgerOf(variant);
    expect(ledger.map(({ before, after }) => [before, after])).toEqual(
      Array.from({ length: stock }, (_, i) => [stock - i, stock - i - 1]),
    );
    expect(ledger.map((entry) => entry.reason).sort()).toEqual(orders.map((order) => `order #${order.number}`).sort());
    // the winners' carts are gone; everyone else still has theirs
    expect(await cartsLeft(carts)).toBe(SHOPPERS - stock);
  });

  // Regression (PostgreSQL only, where checkouts truly overlap): the message once used the stock as read before the
  // reservation waited for the other checkouts, telling a refused shopper "only 1 available".
  it('tells every refused shopper how much was left when the checkout was refused', async () => {
    const rounds = await Promise.all(
      [1, 2, 3].map(async () => {
        const variant = await shop.variant({ stock: 5, sku: 'RACE' });
        const carts = await prepareCarts(Array.from({ length: 50 }, () => [[variant, 1]]));
        return { variant, carts };
      }),
    );

    const { responses } = await race(rounds.flatMap(({ carts }) => carts.map((cart) => () => shop.checkout(cart.gid))));

    const refusals = payloadsOf(responses).flatMap((payload) => payload.userErrors);
    console.log(
      `refusal messages: ${JSON.stringify(tally(refusals.map((e) => e.message.replace(/^RACE-[0-9a-f]{8}-\d+/, 'SKU'))))}`,
    );
    expect(refusals).toHaveLength(3 * 45);
    // each shopper wanted 1 unit: whoever is refused was refused because none was left
    expect(refusals.map((e) => e.message.replace(/^RACE-[0-9a-f]{8}-\d+/, 'SKU'))).toEqual(
      refusals.map(() => 'SKU: only 0 available.'),
    );
  });

  it('60 shoppers buying 2 or 3 of 3 variants in random line orders: no deadlock, no variant oversold', async () => {
    const stock = 15;
    const variants = [
      await shop.variant({ stock, price: 1000 }),
      await shop.variant({ stock, price: 1500 }),
      await shop.variant({ stock, price: 2000 }),
    ];
    const next = random(20261121);
    const lineLists = Array.from({ length: 60 }, () => {
      const shuffled = [...variants].sort(() => next() - 0.5);
      return shuffled.slice(0, next() < 0.5 ? 2 : 3).map((variant): [Variant, number] => [variant, 1]);
    });
    const carts = await prepareCarts(lineLists);

    const { responses, elapsed } = await race(carts.map((cart) => () => shop.checkout(cart.gid)));

    const payloads = payloadsOf(responses);
    const soldBy = (variant: Variant) =>
      payloads.filter((payload) => payload.order?.lines.some((line) => line.sku === variant.sku)).length;
    const sold = variants.map(soldBy);
    const finals = await Promise.all(variants.map(shop.stockOf));
    console.log(
      `mixed-cart race (${REAL_POSTGRES ? 'PostgreSQL' : 'PGlite'}): 60 shoppers, 3 variants × ${stock}, ` +
        `${payloads.filter((p) => p.order).length} orders placed, sold ${sold.join('/')}, ` +
        `final stock ${finals.map((s) => `${s.stockOnHand}/${s.stockReserved}`).join(' ')}, ${elapsed} ms`,
    );

    for (const [i, payload] of payloads.entries()) {
      const wanted = lineLists[i]!.map(([variant]) => variant.sku);
      if (payload.order) {
        expect(payload).toEqual({
          order: expect.objectContaining({ status: 'OPEN', financialStatus: 'AUTHORIZED' }),
          userErrors: [],
        });
        expect(payload.order.lines.map((line) => line.sku).sort()).toEqual([...wanted].sort());
      } else {
        // refused only for stock, naming lines of this cart, and never a partial order
        expect(payload.userErrors.length).toBeGreaterThan(0);
        for (const error of payload.userErrors) {
          const sku = wanted.find((s) => error.message.startsWith(`${s}:`));
          expect(sku).toBeDefined();
          expect(error).toEqual(insufficient(sku!));
        }
      }
    }
    for (const [i, variant] of variants.entries()) {
      expect(sold[i]).toBeLessThanOrEqual(stock);
      expect(finals[i]).toEqual({ stockOnHand: stock - sold[i]!, stockReserved: 0 });
      const orders = await ordersWith(variant);
      expect(orders.map((order) => [order.status, order.financialStatus])).toEqual(
        orders.map(() => ['OPEN', 'AUTHORIZED']),
      );
      expect(orders).toHaveLength(sold[i]!);
      const ledger = await ledgerOf(variant);
      expect(ledger.map(({ before, after }) => [before, after])).toEqual(
        Array.from({ length: sold[i]! }, (_, n) => [stock - n, stock - n - 1]),
      );
    }
    const paidOrders = payloads.filter((p) => p.order).map((p) => databaseIdOf(p.order!.id, 'Order')!);
    expect(await server.prisma.payment.count({ where: { orderId: { in: paidOrders }, status: 'AUTHORIZED' } })).toBe(
      paidOrders.length,
    );
    expect(
      await server.prisma.payment.count({ where: { order: { email: { in: carts.map((cart) => cart.email) } } } }),
    ).toBe(paidOrders.length);
  });

  it('one checkout (one cart, one idempotency key) sent 20 times at once: one order, one payment', async () => {
    const variant = await shop.variant({ stock: 5 });
    const [cart] = await prepareCarts([[[variant, 2]]]);
    const key = newKey();

    const { responses, elapsed } = await race(
      Array.from({ length: 20 }, () => () => shop.checkout(cart!.gid, { key })),
    );

    const payloads = payloadsOf(responses);
    console.log(
      `same-key replays: 20 requests, ${new Set(payloads.map((p) => p.order?.id)).size} distinct order, ${elapsed} ms`,
    );
    const first = payloads[0]!;
    expect(first).toMatchObject({ order: { status: 'OPEN', financialStatus: 'AUTHORIZED' }, userErrors: [] });
    expect(payloads).toEqual(payloads.map(() => first));
    const orders = await ordersOf(cart!);
    expect(orders.map((order) => [order.id, order.payments.map((p) => p.status)])).toEqual([
      [databaseIdOf(first.order!.id, 'Order'), ['AUTHORIZED']],
    ]);
    expect(await shop.stockOf(variant)).toEqual({ stockOnHand: 3, stockReserved: 0 });
    expect(await server.prisma.checkoutAttempt.count({ where: { key } })).toBe(1);
    // one authorization at the processor, under the checkout's processor-side key
    expect(await server.prisma.sandboxCharge.count({ where: { idempotencyKey: `checkout:${key}` } })).toBe(1);
  });

  it('two completions of each of 5 carts at once, with different keys: one order per cart', async () => {
    const variant = await shop.variant({ stock: 100 });
    const carts = await prepareCarts(Array.from({ length: 5 }, () => [[variant, 2]]));

    const { responses, elapsed } = await race(
      carts.flatMap((cart) => [() => shop.checkout(cart.gid), () => shop.checkout(cart.gid)]),
    );

    const payloads = payloadsOf(responses);
    const losers = payloads.filter((payload) => !payload.order);
    console.log(
      `same-cart races: 5 carts × 2 keys, ${payloads.length - losers.length} orders, ${elapsed} ms; ` +
        `losers ${JSON.stringify(tally(losers.map((p) => p.userErrors.map((e) => e.code).join())))}`,
    );
    for (const [i, cart] of carts.entries()) {
      const pair = payloads.slice(2 * i, 2 * i + 2);
      const winners = pair.filter((payload) => payload.order);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ order: { status: 'OPEN', financialStatus: 'AUTHORIZED' }, userErrors: [] });
      // the other learns the cart is taken: checked out already (CONFLICT), or gone by the time it looked
      expect(pair.find((payload) => !payload.order)).toEqual({
        order: null,
        userErrors: [
          expect.toBeOneOf([
            { field: ['input', 'cartId'], code: 'CONFLICT', message: 'This cart has already been checked out.' },
            { field: ['input', 'cartId'], code: 'NOT_FOUND', message: 'No cart with this ID.' },
          ]),
        ],
      });
      const orders = await ordersOf(cart);
      expect(orders.map((order) => [order.status, order.financialStatus, order.payments.map((p) => p.status)])).toEqual(
        [['OPEN', 'AUTHORIZED', ['AUTHORIZED']]],
      );
    }
    expect(await shop.stockOf(variant)).toEqual({ stockOnHand: 90, stockReserved: 0 });
  });

  it('declined payments at once leave the stock exactly as it was, and use no order number', async () => {
    const variant = await shop.variant({ stock: 5 });
    // another shopper's pending checkout holds one unit throughout
    await server.prisma.productVariant.update({ where: { id: variant.id }, data: { stockReserved: 1 } });
    const carts = await prepareCarts(Array.from({ length: 20 }, () => [[variant, 1]]));
    const lastNumber = await server.prisma.order.aggregate({ _max: { number: true } });

    const { responses, elapsed } = await race(
      carts.map(
        (cart, i) => () => shop.checkout(cart.gid, { card: i % 2 ? 'tok_card_declined' : 'tok_insufficient_funds' }),
      ),
    );

    const payloads = payloadsOf(responses);
    console.log(
      `declined race: 20 shoppers, stock 5 (1 reserved), ${elapsed} ms; ` +
        `answers ${JSON.stringify(tally(payloads.map((p) => p.userErrors.map((e) => e.code).join())))}`,
    );
    for (const [i, payload] of payloads.entries()) {
      const declined = {
        field: ['input', 'payment', 'token'],
        code: 'PAYMENT_DECLINED',
        message: i % 2 ? 'The card was declined.' : 'The card has insufficient funds.',
      };
      // while other declines hold their reservation for a moment, a shopper may find nothing left
      expect(payload).toEqual({ order: null, userErrors: [expect.toBeOneOf([declined, insufficient(variant.sku)])] });
    }
    expect(await shop.stockOf(variant)).toEqual({ stockOnHand: 5, stockReserved: 1 });
    expect(await ledgerOf(variant)).toEqual([]);
    const orders = await ordersWith(variant);
    // each declined attempt is kept, hidden, for audit: an ABANDONED row without a number, its payment DECLINED
    expect(orders.map((order) => [order.status, order.number, order.payments.map((p) => p.status)])).toEqual(
      orders.map(() => ['ABANDONED', null, ['DECLINED']]),
    );
    expect(orders).toHaveLength(payloads.filter((p) => p.userErrors[0]!.code === 'PAYMENT_DECLINED').length);
    expect(await cartsLeft(carts)).toBe(20);
    // the next order placed takes the next number: the declines used none
    const next = payloadsOf([await shop.checkout(carts[0]!.gid)])[0]!;
    expect(next).toMatchObject({ order: { status: 'OPEN', financialStatus: 'AUTHORIZED' }, userErrors: [] });
    expect(next.order!.number).toBe(lastNumber._max.number! + 1);
  });
});
