// npm run db:migrate | db:migrate:create -- <name> | db:status | db:drift | db:reset
// Uses DATABASE_URL, or the embedded database under DATA_DIR when it is unset.
import path from 'node:path';
import { loadConfig } from '../config.js';
import { startEmbeddedPostgres } from './embedded.js';
import { applyMigrations, createMigration, migrationStatus, resetDatabase, schemaDrift } from './migrations.js';

const commands: Record<string, (url: string, arg?: string) => Promise<number>> = {
  async deploy(url) {
    const applied = await applyMigrations(url);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
    return 0;
  },
  async create(url, name) {
    if (!name) throw new Error('usage: npm run db:migrate:create -- <name>');
    const dir = await createMigration(url, name);
    console.log(dir ? `Created ${dir}/migration.sql` : 'schema.prisma matches the migrations: nothing to create.');
    return 0;
  },
  async status(url) {
    const status = await migrationStatus(url);
    const problems = [
      status.history && `history: ${JSON.stringify(status.history)}`,
      status.failedMigrationNames.length && `failed: ${status.failedMigrationNames.join(', ')}`,
      status.editedMigrationNames.length && `edited after being applied: ${status.editedMigrationNames.join(', ')}`,
    ].filter(Boolean);
    console.log(problems.length ? problems.join('\n') : 'Database schema is up to date.');
    return problems.length ? 1 : 0;
  },
  async drift(url) {
    const sql = await schemaDrift(url);
    if (sql === null) console.log('No drift: the migrations produce exactly prisma/schema.prisma.');
    else console.log(`DRIFT: prisma/schema.prisma has changes no migration captures:\n${sql}`);
    return sql === null ? 0 : 2;
  },
  async reset(url) {
    const applied = await resetDatabase(url);
    console.log(`Reset; applied: ${applied.join(', ')}`);
    return 0;
  },
};

const [name = '', arg] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  console.error(`usage: tsx src/db/cli.ts ${Object.keys(commands).join('|')} [name]`);
  process.exit(64);
}
const config = loadConfig();
const embedded = config.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'pg') });
try {
  process.exitCode = await command(config.DATABASE_URL ?? embedded!.url, arg);
} finally {
  await embedded?.close();
}
