// Opens the configured PostgreSQL, or an embedded one when none is configured, and brings its schema up to date.
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createPrismaClient, type PrismaClient } from './client.js';
import { startEmbeddedPostgres } from './embedded.js';
import { applyMigrations } from './migrations.js';

export interface Database {
  prisma: PrismaClient;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'DATABASE_POOL_SIZE' | 'STATEMENT_TIMEOUT_MS'>,
  logger: Logger,
): Promise<Database> {
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'pg') });
  if (embedded) logger.info({ dataDir: config.DATA_DIR }, 'DATABASE_URL not set: using embedded PostgreSQL');
  const url = config.DATABASE_URL ?? embedded!.url;
  try {
    const applied = await applyMigrations(url);
    if (applied.length) logger.info({ migrations: applied }, 'applied database migrations');
  } catch (error) {
    await embedded?.close();
    throw error;
  }
  // PGlite has a single backend, so one pooled connection; more would only queue behind it. It also runs each
  // statement to the end: statement_timeout needs a real PostgreSQL server.
  const prisma = createPrismaClient(url, embedded ? 1 : config.DATABASE_POOL_SIZE, config.STATEMENT_TIMEOUT_MS);
  return {
    prisma,
    embedded: Boolean(embedded),
    async close() {
      await prisma.$disconnect();
      await embedded?.close();
    },
  };
}
