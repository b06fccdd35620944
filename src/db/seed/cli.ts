// npm run db:seed [-- --products N] [-- --seed S]: seeds the demo catalog into an empty database
// (DATABASE_URL, or the embedded one under DATA_DIR). Larger catalogs are for benchmarks.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { openDatabase } from '../database.js';
import { seedCatalog } from './catalog.js';

const { values } = parseArgs({ options: { products: { type: 'string' }, seed: { type: 'string' } } });
const config = loadConfig();
const products = Number(values.products ?? config.SEED_PRODUCTS);
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (!Number.isInteger(products) || products < 0 || (seed !== undefined && !Number.isInteger(seed))) {
  console.error('usage: npm run db:seed -- [--products N] [--seed S]');
  process.exit(64);
}
// One-off jobs may run long statements; the API's statement_timeout is for requests.
const database = await openDatabase({ ...config, STATEMENT_TIMEOUT_MS: 0 }, createLogger({ LOG_LEVEL: 'warn' }));
try {
  const counts = await seedCatalog(database.prisma, { products, seed });
  console.log(`Catalog: ${counts.categories} categories, ${counts.products} products, ${counts.variants} variants.`);
} finally {
  await database.close();
}
