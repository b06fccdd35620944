// The benchmark's own database: created once, migrated and seeded with the app's own code, reused while it holds
// the catalog size asked for; plus the rows the scenarios pick from (slugs, variants with ample stock).
import pg from 'pg';
import { createPrismaClient } from '../../src/db/client.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { seedCatalog } from '../../src/db/seed/catalog.js';
import { seedStoreSettings } from '../../src/db/seed/store.js';

const DEFAULT_SERVER = 'postgresql://postgres@127.0.0.1:5432/';
/** Stock given to the variants that carts and checkouts use, so no scenario runs out. */
export const AMPLE_STOCK = 1_000_000_000;

/** BENCH_DATABASE_URL, else DATABASE_URL's server with the database `agora_bench`, else the local server. */
export function benchDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_DATABASE_URL) return env.BENCH_DATABASE_URL;
  const url = new URL(env.DATABASE_URL || DEFAULT_SERVER);
  url.pathname = '/agora_bench';
  return url.toString();
}

const databaseName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function productCount(url: string): Promise<number | null> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ table: string | null }>(`SELECT to_regclass('product')::text AS table`);
    if (!rows[0]?.table) return null;
    const count = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM product');
    return count.rows[0]!.n;
  });
}

export interface PreparedDatabase {
  url: string;
  products: number;
  variants: number;
  /** Whether this run created and seeded it (false: reused). */
  seeded: boolean;
  seedMs: number;
}

/**
 * Makes sure the database exists, is migrated and holds a catalog of exactly `products` products (dropping and
 * recreating it when it holds another size, or when `reset`), with shipping methods and tax rates.
 */
export async function prepareDatabase(url: string, products: number, reset: boolean): Promise<PreparedDatabase> {
  const name = databaseName(url);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  await withClient(maintenance.toString(), async (client) => {
    const found = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    const stale = found && (reset || ![null, 0, products].includes(await productCount(url)));
    if (stale) await client.query(`DROP DATABASE ${quoteIdent(name)} WITH (FORCE)`);
    if (!found || stale) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });

  const started = Date.now();
  const seeded = (await productCount(url)) !== products;
  await applyMigrations(url);
  const prisma = createPrismaClient(url, 2);
  try {
    const counts = await seedCatalog(prisma, { products });
    await seedStoreSettings(prisma);
    return { url, products: counts.products, variants: counts.variants, seeded, seedMs: Date.now() - started };
  } finally {
    await prisma.$disconnect();
  }
}

export interface Fixtures {
  /** Every product's slug, in a fixed shuffled order. */
  slugs: string[];
  /** Products with the fewest variants and with the most, with that number. */
  fewVariants: { slugs: string[]; variants: number };
  manyVariants: { slugs: string[]; variants: number };
  /** Database IDs of variants given AMPLE_STOCK, for carts and checkouts. */
  stockedVariantIds: string[];
}

/** Reads what the scenarios rotate over, and tops up the stock of `stockedVariants` variants. */
export async function loadFixtures(url: string, stockedVariants: number): Promise<Fixtures> {
  return withClient(url, async (client) => {
    const slugs = (await client.query<{ slug: string }>('SELECT slug FROM product ORDER BY md5(slug)')).rows;
    const bySize = async (order: 'ASC' | 'DESC') => {
      const { rows } = await client.query<{ slug: string; variants: number }>(
        `SELECT p.slug, count(*)::int AS variants FROM product p JOIN product_variant v ON v.product_id = p.id
         GROUP BY p.id ORDER BY count(*) ${order}, p.slug LIMIT 10`,
      );
      return { slugs: rows.map((row) => row.slug), variants: rows[0]?.variants ?? 0 };
    };
    const variants = await client.query<{ id: string }>(
      `UPDATE product_variant SET stock_on_hand = stock_reserved + $1
       WHERE id IN (SELECT id FROM product_variant ORDER BY sku LIMIT $2) RETURNING id`,
      [AMPLE_STOCK, stockedVariants],
    );
    return {
      slugs: slugs.map((row) => row.slug),
      fewVariants: await bySize('ASC'),
      manyVariants: await bySize('DESC'),
      stockedVariantIds: variants.rows.map((row) => row.id).sort(),
    };
  });
}

/**
 * Marks the order emails that earlier servers left unsent as sent, so that a new server does not work off another's
 * backlog while it is being measured. Returns how many there were.
 */
export const clearOutbox = (url: string) =>
  withClient(url, async (client) => {
    const { rowCount } = await client.query('UPDATE outbox_email SET sent_at = now() WHERE sent_at IS NULL');
    return rowCount ?? 0;
  });

export const postgresVersion = (url: string) =>
  withClient(url, async (client) => {
    const { rows } = await client.query<{ version: string }>(`SELECT current_setting('server_version') AS version`);
    return rows[0]!.version;
  });

/** The PostgreSQL backends serving `url`'s database, other than the asking connection. */
export async function backendPids(url: string): Promise<number[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((row) => row.pid);
  });
}
