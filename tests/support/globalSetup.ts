// Builds the migrated database once; every test file then gets its own copy (see testDatabase.ts).
// With DATABASE_URL: a template database on that server. Without: a PGlite data-directory snapshot.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { applyMigrations } from '../../src/db/migrations.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Real PostgreSQL: the URL of the migrated template database. */
    templateDatabaseUrl: string | null;
    /** Embedded PostgreSQL: a tarball of a migrated PGlite data directory. */
    pgliteSnapshot: string | null;
  }
}

export const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

async function createTemplate(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `agora_template_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = withDatabase(serverUrl, name);
  await applyMigrations(url);
  return {
    url,
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function createSnapshot(): Promise<{ file: string; remove: () => void }> {
  const embedded = await startEmbeddedPostgres();
  await applyMigrations(embedded.url);
  const dir = mkdtempSync(path.join(tmpdir(), 'agora-test-'));
  const file = path.join(dir, 'migrated.tar.gz');
  writeFileSync(file, Buffer.from(await (await embedded.db.dumpDataDir('gzip')).arrayBuffer()));
  await embedded.close();
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const template = await createTemplate(serverUrl);
    project.provide('templateDatabaseUrl', template.url);
    project.provide('pgliteSnapshot', null);
    return template.drop;
  }
  const snapshot = await createSnapshot();
  project.provide('templateDatabaseUrl', null);
  project.provide('pgliteSnapshot', snapshot.file);
  return snapshot.remove;
}
