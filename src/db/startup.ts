// The one-time work of a start: migrations, the demo catalog and the first admin. A single instance does it as it
// opens its database; a cluster's primary does it once before forking, and its workers skip it.
import cluster from 'node:cluster';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ensureFirstAdmin } from '../modules/account/firstAdmin.js';
import { withAdvisoryLock } from './advisoryLock.js';
import type { PrismaClient } from './client.js';
import { openDatabase } from './database.js';
import { seedCatalog } from './seed/catalog.js';
import { seedStoreSettings } from './seed/store.js';

type StartupConfig = Pick<
  Config,
  | 'DATABASE_URL'
  | 'DATABASE_REPLICA_URLS'
  | 'DATA_DIR'
  | 'DATABASE_POOL_SIZE'
  | 'STATEMENT_TIMEOUT_MS'
  | 'SEED_DEMO_CATALOG'
  | 'SEED_PRODUCTS'
  | 'ADMIN_EMAIL'
  | 'ADMIN_PASSWORD'
>;

/** Whether this process is a cluster worker, whose primary has already migrated and prepared the database. */
export const preparedByPrimary = (): boolean => cluster.isWorker;

/** The advisory lock instances hold while they prepare first-start data (an arbitrary constant of this project). */
export const FIRST_START_LOCK_KEY = 4_165_298_338;

/**
 * First-start data: the demo catalog and the first admin, each only when configured and missing. Instances starting
 * together on an empty database take turns, so that the later ones find it there. Give it the primary
 * (Database.primary): it reads what it may have just written.
 */
export async function prepareData(prisma: PrismaClient, config: StartupConfig, logger: Logger): Promise<void> {
  const { SEED_DEMO_CATALOG: seed, ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = config;
  if (!seed && !(email && password)) return;
  const prepare = async () => {
    if (seed) {
      logger.info(await seedCatalog(prisma, { products: config.SEED_PRODUCTS }), 'demo catalog ready');
      await seedStoreSettings(prisma);
    }
    if (email && password && (await ensureFirstAdmin(prisma, { email, password }))) {
      logger.info('created the first admin from ADMIN_EMAIL');
    }
  };
  // The embedded database belongs to this process alone.
  if (!config.DATABASE_URL) return prepare();
  await withAdvisoryLock(config.DATABASE_URL, FIRST_START_LOCK_KEY, prepare, () =>
    logger.info('another instance is preparing the database; waiting for it'),
  );
}

/** A cluster primary's start: migrate and prepare the database, then let go of it before the workers start. */
export async function prepareOnce(config: StartupConfig, logger: Logger): Promise<void> {
  const database = await openDatabase({ ...config, DATABASE_POOL_SIZE: 1, DATABASE_REPLICA_URLS: [] }, logger, {
    migrate: true,
  });
  try {
    await prepareData(database.primary, config, logger);
  } finally {
    await database.close();
  }
}
