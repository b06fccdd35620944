// The checker of the fault tests, checked: a consistent database passes, and each kind of damage a fault could
// leave behind is reported. Rows are written straight to a fresh database (no server), so a green fault run means
// what it says.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import {
  checkInvariants,
  databaseId,
  globalId,
  ON_SERVER,
  openPool,
  seedVariant,
  settle,
  type Shopper,
  type Variant,
} from './support/index.js';

describe.skipIf(!ON_SERVER)('the fault tests’ invariant checker', () => {
  let database: TestDatabase;
  let db: ReturnType<typeof openPool>;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = openPool(database.url);
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  const shopper = (n: number): Shopper => ({
    n,
    email: `checked-${n}-${randomUUID().slice(0, 8)}@example.test`,
    cartId: globalId('Cart', randomUUID()),
    key: `key-${randomUUID()}`,
    home: 0,
    answers: [],
  });

  /** Tells the shopper its checkout was paid, with order `id`. */
  const toldPaid = (s: Shopper, id: string) => {
    const answer = {
      kind: 'paid' as const,
      detail: 'AUTHORIZED',
      instance: 'A',
      ms: 5,
      at: 0,
      order: { id: globalId('Order', id), number: 1, status: 'OPEN', financialStatus: 'AUTHORIZED', email: s.email },
    };
    s.answers.push(answer);
    s.final = answer;
  };

  /** An order of one unit of `variant` for the shopper, its payment and the processor's charge for it. */
  async function order(
    s: Shopper,
    variant: Variant,
    {
      status = 'OPEN',
      financial = 'AUTHORIZED',
      charge = 'authorized',
      voided = false,
      byCart = true,
    }: { status?: string; financial?: string; charge?: string | null; voided?: boolean; byCart?: boolean } = {},
  ): Promise<string> {
    const id = randomUUID();
    const key = `pay-${randomUUID()}`;
    const numbered = ['OPEN', 'CLOSED', 'CANCELLED'].includes(status);
    await db.query(
      `INSERT INTO "order" (id, number, email, status, financial_status, currency_code, subtotal_amount,
         shipping_amount, tax_amount, total_amount, shipping_address, shipping_method, cart_id, updated_at)
       VALUES ($1, ${numbered ? "nextval('order_number_seq')" : 'NULL'}, $2, $3, $4, 'USD', 1000, 0, 0, 1000, '{}',
         'Standard', $5, now())`,
      [id, s.email, status, financial, byCart ? databaseId(s.cartId) : null],
    );
    await db.query(
      `INSERT INTO order_line (id, order_id, variant_id, sku, product_title, variant_title, unit_price_amount, quantity)
       VALUES (gen_random_uuid(), $1, $2, $3, 'Product', 'Default', 1000, 1)`,
      [id, variant.id, variant.sku],
    );
    await db.query(
      `INSERT INTO payment (id, order_id, provider, idempotency_key, status, amount, updated_at)
       VALUES (gen_random_uuid(), $1, 'sandbox', $2, $3, 1000, now())`,
      [id, key, financial === 'AUTHORIZED' ? 'AUTHORIZED' : 'PENDING'],
    );
    if (charge) {
      await db.query(
        `INSERT INTO sandbox_charge (idempotency_key, reference, status, amount, voided) VALUES ($1, $2, $3, 1000, $4)`,
        [key, `ref-${key}`, charge, voided],
      );
    }
    return id;
  }

  it('passes a consistent database, then reports each kind of damage', async () => {
    const variant = await seedVariant(db, 10);
    // Consistent: one paid order (one unit sold), and an abandoned checkout whose authorization was voided.
    const paid = shopper(1);
    toldPaid(paid, await order(paid, variant));
    await db.query('UPDATE product_variant SET stock_on_hand = 9 WHERE id = $1', [variant.id]);
    const abandoned = shopper(2);
    await order(abandoned, variant, { status: 'ABANDONED', financial: 'VOIDED', voided: true });
    const clean = await checkInvariants(db, [paid, abandoned], [variant]);
    expect(clean.violations).toEqual([]);
    expect(clean.figures).toMatchObject({ visiblePaidOrders: 1, liveAuthorizations: 1, voidedAuthorizations: 1 });
    expect(clean.figures.stock).toEqual([{ sku: variant.sku, initial: 10, onHand: 9, reserved: 0, sold: 1 }]);

    // Told PAID, but nothing to show for it.
    const lied = shopper(3);
    const phantom = randomUUID();
    toldPaid(lied, phantom);
    // Two orders (and two live authorizations) for one shopper.
    const twice = shopper(4);
    await order(twice, variant);
    await order(twice, variant, { byCart: false });
    // Authorizations nobody voided: one the processor made for no payment, one of an abandoned checkout.
    await db.query(
      `INSERT INTO sandbox_charge (idempotency_key, reference, status, amount) VALUES ('orphan', 'ref-orphan', 'authorized', 500)`,
    );
    await order(shopper(5), variant, { status: 'ABANDONED', financial: 'PENDING' });
    // A checkout left half-done: its order in CHECKOUT (its unit not reserved), its attempt unfinished.
    await order(shopper(6), variant, { status: 'CHECKOUT', financial: 'PENDING', charge: null });
    await db.query(
      `INSERT INTO checkout_attempt (key, cart_id, fingerprint, lease_until) VALUES ('unfinished', gen_random_uuid(), 'x', now())`,
    );

    // An order that says AUTHORIZED, whose authorization was voided at the processor.
    await order(shopper(7), variant, { voided: true });

    const { violations } = await checkInvariants(db, [paid, abandoned, lied, twice], [variant]);
    expect(violations).toEqual([
      '1. shopper 3 was told PAID but has 0 visible orders',
      `1. shopper 3 was told about order ${phantom}, not visible`,
      '2. shopper 4 has 2 visible orders',
      `2. ${twice.email} holds 2 live authorizations`,
      expect.stringMatching(/^3\. live authorization orphan \(500\) belongs to no order/),
      expect.stringMatching(
        /^3\. live authorization pay-\S+ \(1000\) belongs to order \S+ \(ABANDONED, #null, PENDING\)/,
      ),
      expect.stringMatching(/^3\. order #\d+ \(\S+\) is AUTHORIZED but holds 0 live authorizations$/),
      `4. ${variant.sku}: initial 10 ≠ on hand 9 + sold 4`,
      `4. ${variant.sku}: 0 reserved, but checkouts and unpaid orders hold 1`,
      '5. 1 orders left in CHECKOUT',
      '5. 1 checkout attempts never finished',
    ]);
    expect(await settle(db, 300)).toMatchObject({ settled: false, attempts: 1, orders: 1 });
  });
});
