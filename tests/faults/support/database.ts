// The database of a fault test, seen from outside the servers: seeding, faults, and the invariants every checkout
// must leave behind, checked by SQL once the system has settled.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { waitFor } from './processes.js';
import type { Shopper } from './shoppers.js';

// ---------------------------------------------------------------------------------------------------------------
// The database, from outside the servers

/** A pool on the test database for seeding, fault switches and invariant checks. It survives its connections being
 * terminated (an idle client's error is swallowed; the pool opens a new one). */
export function openPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  return pool;
}

/** Terminates every other backend of database `name`: the servers' connections and ours alike. */
export async function terminateBackends(admin: pg.Client, name: string): Promise<number> {
  const result = await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  return result.rowCount ?? 0;
}

export const databaseName = (url: string) => new URL(url).pathname.slice(1);

export const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64url');
export const databaseId = (gid: string) => Buffer.from(gid, 'base64url').toString('utf8').split(':')[1]!;

export interface Variant {
  id: string;
  gid: string;
  sku: string;
  initialStock: number;
}

/** The store's Standard shipping method (for DE and US) and the German VAT, as seedStoreSettings makes them. */
export async function seedStoreSettings(db: pg.Pool): Promise<void> {
  await db.query(
    `INSERT INTO shipping_method (id, name, price_amount, countries)
     VALUES (gen_random_uuid(), 'Standard', 499, ARRAY['US', 'CA', 'DE', 'FR', 'GB']) ON CONFLICT (name) DO NOTHING`,
  );
  await db.query(
    `INSERT INTO tax_rate (country_code, name, rate_basis_points) VALUES ('DE', 'MwSt.', 1900) ON CONFLICT DO NOTHING`,
  );
}

/** One product with one variant of `stock` units. */
export async function seedVariant(db: pg.Pool, stock: number, price = 2500): Promise<Variant> {
  const sku = `FAULT-${randomUUID().slice(0, 8).toUpperCase()}`;
  const product = await db.query<{ id: string }>(
    `INSERT INTO product (id, title, slug, updated_at) VALUES (gen_random_uuid(), $1, $2, now()) RETURNING id`,
    [`Product ${sku}`, sku.toLowerCase()],
  );
  const variant = await db.query<{ id: string }>(
    `INSERT INTO product_variant (id, product_id, sku, title, price_amount, stock_on_hand, updated_at)
     VALUES (gen_random_uuid(), $1, $2, 'Default', $3, $4, now()) RETURNING id`,
    [product.rows[0]!.id, sku, price, stock],
  );
  const id = variant.rows[0]!.id;
  return { id, gid: globalId('ProductVariant', id), sku, initialStock: stock };
}

// ---------------------------------------------------------------------------------------------------------------
// After the storm: settling and invariants

/** Waits (up to `timeoutMs`) until no checkout attempt is unfinished and no order is mid-checkout: the recovery
 * worker finishes stale ones once their lease has run out. What was still open when it stopped waiting. */
export async function settle(db: pg.Pool, timeoutMs = 20_000) {
  const started = Date.now();
  const open = async () => {
    const { rows } = await db.query<{ attempts: number; orders: number }>(
      `SELECT (SELECT count(*)::int FROM checkout_attempt WHERE finished_at IS NULL) AS attempts,
              (SELECT count(*)::int FROM "order" WHERE status = 'CHECKOUT') AS orders`,
    );
    return rows[0]!;
  };
  const last = await waitFor(
    async () => {
      const now = await open().catch(() => ({ attempts: -1, orders: -1 }));
      return now.attempts === 0 && now.orders === 0 ? now : false;
    },
    timeoutMs,
    200,
  );
  return { settled: Boolean(last), waitedMs: Date.now() - started, ...(last || (await open())) };
}

const VISIBLE = `o.status IN ('OPEN', 'CLOSED', 'CANCELLED') AND o.number IS NOT NULL`;
const SOLD = `o.financial_status IN ('AUTHORIZED', 'PARTIALLY_PAID', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')
  AND o.status <> 'CANCELLED'`;

export interface InvariantReport {
  violations: string[];
  figures: {
    visibleOrders: number;
    visiblePaidOrders: number;
    liveAuthorizations: number;
    voidedAuthorizations: number;
    stock: { sku: string; initial: number; onHand: number; reserved: number; sold: number }[];
  };
}

/**
 * Checks by SQL what every checkout must leave behind, whatever died when:
 * 1. every shopper told PAID has exactly one visible order, the one it was told about;
 * 2. no shopper has two visible orders, nor two live (authorized, not voided) authorizations at the processor;
 * 3. every live authorization belongs to a payment of a visible order whose money is AUTHORIZED (or PAID,
 *    PARTIALLY_PAID): any other authorization was voided; and every AUTHORIZED order holds exactly one;
 * 4. stock adds up: initial = on hand + sold, reserved = what checkouts and unpaid orders hold, never negative;
 * 5. no order is left mid-checkout and every checkout attempt has finished.
 */
export async function checkInvariants(db: pg.Pool, shoppers: Shopper[], variants: Variant[]): Promise<InvariantReport> {
  const violations: string[] = [];
  const emails = shoppers.map((s) => s.email);
  const cartIds = shoppers.map((s) => databaseId(s.cartId));

  // Every visible order of these shoppers, found by cart or by email (each shopper's email is its own).
  const { rows: orders } = await db.query<{
    id: string;
    email: string;
    cart_id: string | null;
    financial_status: string;
  }>(
    `SELECT o.id, o.email, o.cart_id, o.financial_status FROM "order" o
     WHERE ${VISIBLE} AND (o.email = ANY($1) OR o.cart_id = ANY($2::uuid[]))`,
    [emails, cartIds],
  );
  const ordersOf = (s: Shopper) =>
    orders.filter((o) => o.email === s.email || o.cart_id === databaseId(s.cartId)).map((o) => o.id);

  for (const shopper of shoppers) {
    const mine = ordersOf(shopper);
    const told = shopper.answers.filter((a) => a.kind === 'paid').map((a) => databaseId(a.order!.id));
    if (told.length && mine.length !== 1) {
      violations.push(`1. shopper ${shopper.n} was told PAID but has ${mine.length} visible orders`);
    }
    for (const id of new Set(told)) {
      if (!mine.includes(id)) violations.push(`1. shopper ${shopper.n} was told about order ${id}, not visible`);
    }
    if (mine.length > 1) violations.push(`2. shopper ${shopper.n} has ${mine.length} visible orders`);
  }

  const { rows: doubleAuth } = await db.query<{ email: string; live: number }>(
    `SELECT o.email, count(*)::int AS live FROM sandbox_charge c
     JOIN payment p ON p.idempotency_key = c.idempotency_key JOIN "order" o ON o.id = p.order_id
     WHERE c.status = 'authorized' AND NOT c.voided GROUP BY o.email HAVING count(*) > 1`,
  );
  for (const row of doubleAuth) violations.push(`2. ${row.email} holds ${row.live} live authorizations`);

  const { rows: strayAuth } = await db.query<{
    key: string;
    amount: number;
    order_id: string | null;
    status: string | null;
    number: number | null;
    financial_status: string | null;
  }>(
    `SELECT c.idempotency_key AS key, c.amount, o.id AS order_id, o.status, o.number, o.financial_status
     FROM sandbox_charge c
     LEFT JOIN payment p ON p.idempotency_key = c.idempotency_key
     LEFT JOIN "order" o ON o.id = p.order_id
     WHERE c.status = 'authorized' AND NOT c.voided
       AND NOT (o.id IS NOT NULL AND ${VISIBLE} AND o.financial_status IN ('AUTHORIZED', 'PAID', 'PARTIALLY_PAID'))`,
  );
  for (const row of strayAuth) {
    violations.push(
      `3. live authorization ${row.key} (${row.amount}) belongs to ${
        row.order_id ? `order ${row.order_id} (${row.status}, #${row.number}, ${row.financial_status})` : 'no order'
      }: it should have been voided`,
    );
  }

  // ...and the other way round: an order that says AUTHORIZED holds exactly one live authorization.
  const { rows: unbacked } = await db.query<{ id: string; number: number; live: number }>(
    `SELECT o.id, o.number, count(c.idempotency_key) FILTER (WHERE c.status = 'authorized' AND NOT c.voided)::int AS live
     FROM "order" o
     LEFT JOIN payment p ON p.order_id = o.id
     LEFT JOIN sandbox_charge c ON c.idempotency_key = p.idempotency_key
     WHERE ${VISIBLE} AND o.financial_status = 'AUTHORIZED'
     GROUP BY o.id, o.number HAVING count(c.idempotency_key) FILTER (WHERE c.status = 'authorized' AND NOT c.voided) <> 1`,
  );
  for (const row of unbacked) {
    violations.push(`3. order #${row.number} (${row.id}) is AUTHORIZED but holds ${row.live} live authorizations`);
  }

  const stock: InvariantReport['figures']['stock'] = [];
  for (const variant of variants) {
    const { rows } = await db.query<{ on_hand: number; reserved: number; sold: number; held: number }>(
      `SELECT v.stock_on_hand AS on_hand, v.stock_reserved AS reserved,
         (SELECT coalesce(sum(l.quantity), 0)::int FROM order_line l JOIN "order" o ON o.id = l.order_id
          WHERE l.variant_id = v.id AND ${SOLD}) AS sold,
         (SELECT coalesce(sum(l.quantity), 0)::int FROM order_line l JOIN "order" o ON o.id = l.order_id
          WHERE l.variant_id = v.id AND (o.status = 'CHECKOUT' OR (o.status = 'OPEN' AND o.financial_status = 'PENDING')))
          AS held
       FROM product_variant v WHERE v.id = $1`,
      [variant.id],
    );
    const row = rows[0]!;
    stock.push({
      sku: variant.sku,
      initial: variant.initialStock,
      onHand: row.on_hand,
      reserved: row.reserved,
      sold: row.sold,
    });
    if (variant.initialStock !== row.on_hand + row.sold) {
      violations.push(`4. ${variant.sku}: initial ${variant.initialStock} ≠ on hand ${row.on_hand} + sold ${row.sold}`);
    }
    if (row.reserved !== row.held) {
      violations.push(`4. ${variant.sku}: ${row.reserved} reserved, but checkouts and unpaid orders hold ${row.held}`);
    }
    if (row.reserved < 0 || row.on_hand < 0)
      violations.push(`4. ${variant.sku}: negative stock ${JSON.stringify(row)}`);
  }

  const { rows: open } = await db.query<{ orders: number; attempts: number }>(
    `SELECT (SELECT count(*)::int FROM "order" WHERE status = 'CHECKOUT') AS orders,
            (SELECT count(*)::int FROM checkout_attempt WHERE finished_at IS NULL) AS attempts`,
  );
  if (open[0]!.orders) violations.push(`5. ${open[0]!.orders} orders left in CHECKOUT`);
  if (open[0]!.attempts) violations.push(`5. ${open[0]!.attempts} checkout attempts never finished`);

  const { rows: totals } = await db.query<{ visible: number; paid: number; live: number; voided: number }>(
    `SELECT (SELECT count(*)::int FROM "order" o WHERE ${VISIBLE}) AS visible,
            (SELECT count(*)::int FROM "order" o WHERE ${VISIBLE}
               AND o.financial_status IN ('AUTHORIZED', 'PAID', 'PARTIALLY_PAID')) AS paid,
            (SELECT count(*)::int FROM sandbox_charge WHERE status = 'authorized' AND NOT voided) AS live,
            (SELECT count(*)::int FROM sandbox_charge WHERE status = 'authorized' AND voided) AS voided`,
  );
  const t = totals[0]!;
  return {
    violations,
    figures: {
      visibleOrders: t.visible,
      visiblePaidOrders: t.paid,
      liveAuthorizations: t.live,
      voidedAuthorizations: t.voided,
      stock,
    },
  };
}

/** The visible orders (numbered, OPEN/CLOSED/CANCELLED) bought with `email`. */
export async function visibleOrdersOf(db: pg.Pool, email: string) {
  const { rows } = await db.query<{ id: string; number: number; status: string; financial_status: string }>(
    `SELECT o.id, o.number, o.status, o.financial_status FROM "order" o WHERE o.email = $1 AND ${VISIBLE}`,
    [email],
  );
  return rows;
}

export interface Charge {
  idempotency_key: string;
  status: string;
  amount: number;
  captured: number;
  voided: boolean;
}

/** The sandbox processor's ledger, by idempotency key. */
export async function chargesByKey(db: pg.Pool): Promise<Map<string, Charge>> {
  const { rows } = await db.query<Charge>(
    'SELECT idempotency_key, status, amount, captured, voided FROM sandbox_charge ORDER BY created_at',
  );
  return new Map(rows.map((row) => [row.idempotency_key, row]));
}

export async function stockOf(db: pg.Pool, variant: Variant) {
  const { rows } = await db.query<{ onHand: number; reserved: number }>(
    'SELECT stock_on_hand AS "onHand", stock_reserved AS reserved FROM product_variant WHERE id = $1',
    [variant.id],
  );
  return rows[0]!;
}
