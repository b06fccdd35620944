// Opens the configured PostgreSQL, or an embedded one when none is configured, and brings its schema up to date.
import cluster from 'node:cluster';
import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createPrismaClient, poolOf, type PrismaClient } from './client.js';
import { startEmbeddedPostgres } from './embedded.js';
import { applyMigrations } from './migrations.js';
import { withReadReplicas } from './replicas.js';

export interface Database {
  /** Reads outside transactions go to DATABASE_REPLICA_URLS when set; everything else to the primary. */
  prisma: PrismaClient;
  /** The primary alone, for reads that must see a write just made (the same client as `prisma` without replicas). */
  primary: PrismaClient;
  /** The connection pools behind them by name (primary, replica1, ...), for metrics. */
  pools: Record<string, pg.Pool>;
  embedded: boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations first. Default: yes, except in a cluster worker, whose primary has done it. */
  migrate?: boolean;
}

export async function openDatabase(
  config: Pick<
    Config,
    'DATABASE_URL' | 'DATABASE_REPLICA_URLS' | 'DATA_DIR' | 'DATABASE_POOL_SIZE' | 'STATEMENT_TIMEOUT_MS'
  >,
  logger: Logger,
  { migrate = !cluster.isWorker }: OpenOptions = {},
): Promise<Database> {
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'pg') });
  if (embedded) logger.info({ dataDir: config.DATA_DIR }, 'DATABASE_URL not set: using embedded PostgreSQL');
  const url = config.DATABASE_URL ?? embedded!.url;
  try {
    if (migrate) {
      const applied = await applyMigrations(url, {
        onWait: () => logger.info('another instance is applying database migrations; waiting for it'),
      });
      if (applied.length) logger.info({ migrations: applied }, 'applied database migrations');
    }
  } catch (error) {
    await embedded?.close();
    throw error;
  }
  // PGlite has a single backend, so one pooled connection; more would only queue behind it. It also runs each
  // statement to the end: statement_timeout needs a real PostgreSQL server.
  const poolSize = embedded ? 1 : config.DATABASE_POOL_SIZE;
  const primary = createPrismaClient(
    url,
    poolSize,
    config.STATEMENT_TIMEOUT_MS,
    connectionErrorLogger(logger, 'primary'),
  );
  const replicaUrls = embedded ? [] : config.DATABASE_REPLICA_URLS;
  const replicas = replicaUrls.map((replica, i) =>
    createPrismaClient(
      replica,
      poolSize,
      config.STATEMENT_TIMEOUT_MS,
      connectionErrorLogger(logger, `replica${i + 1}`),
    ),
  );
  if (replicas.length) logger.info({ replicas: replicas.length }, 'reading from database replicas');
  const prisma = withReadReplicas(primary, replicas);
  return {
    prisma,
    primary,
    pools: Object.fromEntries(
      [primary, ...replicas].map((client, i) => [i ? `replica${i}` : 'primary', poolOf(client)]),
    ),
    embedded: Boolean(embedded),
    async close() {
      await prisma.$disconnect(); // with replicas, the extension disconnects them too
      await embedded?.close();
    },
  };
}

/** How often, at most, a pool's lost connections are logged. */
export const CONNECTION_ERROR_LOG_INTERVAL_MS = 5_000;

/**
 * Logs a pool's lost connections at warn level, at most once per CONNECTION_ERROR_LOG_INTERVAL_MS: they come in
 * bursts (a database restart or failover ends every connection at once), and each warning says how many more there
 * were since the previous one. The requests they cut short log their own errors.
 */
export function connectionErrorLogger(logger: Logger, pool: string, now = Date.now): (error: Error) => void {
  let loggedAt = -Infinity;
  let unlogged = 0;
  return (error) => {
    if (now() - loggedAt < CONNECTION_ERROR_LOG_INTERVAL_MS) {
      unlogged += 1;
      return;
    }
    logger.warn({ err: error, pool, unloggedSincePrevious: unlogged }, 'database connection lost');
    loggedAt = now();
    unlogged = 0;
  };
}
