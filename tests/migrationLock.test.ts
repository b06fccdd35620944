// Several instances starting at once (several machines, WORKERS=1 each) over one database: migrations are applied
// once, one instance at a time, and an instance that starts during another's long migration waits for it instead
// of failing (the schema engine's own lock gives up after 10 s). First-start data is prepared once, the same way.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { applyMigrations, MIGRATION_LOCK_KEY } from '../src/db/migrations.js';
import { prepareData } from '../src/db/startup.js';
import { withDatabase } from './support/globalSetup.js';

/** The advisory lock key the Prisma schema engine takes while it migrates. */
const ENGINE_LOCK_KEY = 72707369;

const template = inject('templateDatabaseUrl');
const admin = template ? withDatabase(template, 'postgres') : '';

let database = '';
let url = '';

async function query<T extends pg.QueryResultRow>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A session holding advisory locks, as an instance in the middle of migrating does. */
async function holdLocks(...keys: number[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const key of keys) await client.query('SELECT pg_advisory_lock($1)', [key]);
  return { release: () => client.end() };
}

async function freshDatabase() {
  await query(admin, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await query(admin, `CREATE DATABASE "${database}"`);
}

const appliedNames = async () =>
  (
    await query<{ migration_name: string }>(
      url,
      'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name',
    )
  ).map((row) => row.migration_name);

// The embedded database belongs to one process, and its single backend session is every connection's session, so
// advisory locks could not exclude anyone there: these tests need a PostgreSQL server.
describe.skipIf(!template)('starting several instances together (PostgreSQL server)', () => {
  beforeAll(() => {
    database = `agora_migrate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    url = withDatabase(template!, database);
  });
  afterAll(async () => {
    await query(admin, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('applies each migration once when instances start together', async () => {
    await freshDatabase();
    const results = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    const applied = results.flat();
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length); // nothing applied twice
    expect(results.filter((names) => names.length > 0)).toHaveLength(1);
    expect(await appliedNames()).toEqual([...applied].sort());
  });

  it('waits for an instance that migrates for longer than the engine would wait, then finds nothing to do', async () => {
    await freshDatabase();
    const first = await applyMigrations(url); // the other instance's work, done before it lets go below
    const other = await holdLocks(MIGRATION_LOCK_KEY, ENGINE_LOCK_KEY);
    let waited = false;
    const started = Date.now();
    const second = applyMigrations(url, { onWait: () => (waited = true) }).then(
      (applied) => ({ applied }),
      (error: Error) => ({ error: error.message }),
    );
    // 11 s: past the schema engine's own 10-s advisory lock timeout, which failed this start without our lock.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    await other.release();
    expect(await second).toEqual({ applied: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(11_000);
    expect(waited).toBe(true);
    expect(await appliedNames()).toEqual([...first].sort());
  }, 40_000);

  it('seeds the demo catalog and creates the first admin once when instances start together on an empty database', async () => {
    await freshDatabase();
    await applyMigrations(url);
    const config = {
      DATABASE_URL: url,
      DATABASE_REPLICA_URLS: [],
      DATA_DIR: '.data',
      DATABASE_POOL_SIZE: 2,
      STATEMENT_TIMEOUT_MS: 5_000,
      SEED_DEMO_CATALOG: true,
      SEED_PRODUCTS: 40,
      ADMIN_EMAIL: 'first.admin@example.test',
      ADMIN_PASSWORD: 'a long and unguessable passphrase',
    };
    const logger = pino({ level: 'silent' });
    const instances = await Promise.all([1, 2, 3].map(() => openDatabase(config, logger, { migrate: false })));
    try {
      const outcomes = await Promise.allSettled(instances.map((db) => prepareData(db.primary, config, logger)));
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    } finally {
      await Promise.all(instances.map((db) => db.close()));
    }
    const [counts] = await query(
      url,
      `SELECT (SELECT count(*) FROM product)::int AS products,
              (SELECT count(*) FROM account WHERE role = 'ADMIN')::int AS admins`,
    );
    expect(counts).toEqual({ products: 40, admins: 1 });
  });
});
