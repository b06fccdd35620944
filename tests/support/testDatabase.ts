// A clean, migrated database for one test file: a copy of the template on the real server, or an in-memory
// PGlite loaded from the snapshot.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { inject } from 'vitest';
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
    const admin = new pg.Client({ connectionString: template });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName}"`);
    await admin.end();
    return {
      url: withDatabase(template, name),
      embedded: false,
      async drop() {
        const client = new pg.Client({ connectionString: template });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const snapshot = readFileSync(inject('pgliteSnapshot')!);
  const db = await PGlite.create({ loadDataDir: new Blob([snapshot]) });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  return {
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres`,
    embedded: true,
    async drop() {
      await server.stop();
      await db.close();
    },
  };
}
