// A clean, migrated database for one test file: a copy of the template on the real server, or an in-memory
// PGlite loaded from the snapshot.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { withDatabase } from './globalSetup.js';

export interface TestDatabase {
  url: string;
  /** The embedded database serves one connection at a time. */
  embedded: boolean;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabaseUrl');
  if (template) {
    const templateName = new URL(template).pathname.slice(1);
    const name = `agora_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    // Copying needs the template to be idle, so connect elsewhere (connections to it would make copies collide).
    const admin = new pg.Client({ connectionString: withDatabase(template, 'postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName}"`);
    await admin.end();
    return {
      url: withDatabase(template, name),
      embedded: false,
      async drop() {
        const client = new pg.Client({ connectionString: withDatabase(template, 'postgres') });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const embedded = await startEmbeddedPostgres({ loadDataDir: new Blob([readFileSync(inject('pgliteSnapshot')!)]) });
  return { url: embedded.url, embedded: true, drop: () => embedded.close() };
}
