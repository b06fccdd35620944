// Offline driver for Prisma's schema engine: the WASM build plus @prisma/adapter-pg, so migrations never need the
// schema-engine binary (which cannot be downloaded behind a firewall). Same engine, same _prisma_migrations table.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { parse as parsePgUrl } from 'pg-connection-string';

export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

type QueryResultLike = { fields?: { dataTypeID: number }[] };

// adapter-pg rejects columns of Postgres' internal one-byte type "char" (OID 18), which the schema describer reads
// from pg_catalog; pg already returns them as strings, so report them as text (OID 25).
function charColumnsAsText<T>(result: T): T {
  for (const r of (Array.isArray(result) ? result : [result]) as QueryResultLike[]) {
    for (const field of r?.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
  }
  return result;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-misused-promises --
   pg's query() overloads are too many to restate; this only post-processes whatever pg returns. */
class CharAsTextClient extends pg.Client {
  override query(...args: any[]): any {
    const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined;
    if (callback) {
      return super.query(...(args as [string]), (err: Error, res: unknown) =>
        callback(err, err ? res : charColumnsAsText(res)),
      );
    }
    const result = super.query(...(args as [string]));
    return result && typeof result.then === 'function' ? result.then(charColumnsAsText) : result;
  }
}
/* eslint-enable */

// The describer reads pg_constraint.contype as a one-character value; with the column reported as text above it
// panics on CHECK constraints, so that one column goes back to the engine typed as a character.
const CHARACTER_COLUMNS = new Set(['constraint_type']);

async function connectDescriberSafe(factory: PrismaPg): Promise<SqlDriverAdapter> {
  const adapter = await factory.connect();
  const queryRaw = adapter.queryRaw.bind(adapter);
  adapter.queryRaw = async (query) => {
    const result = await queryRaw(query);
    result.columnNames.forEach((name, i) => {
      if (CHARACTER_COLUMNS.has(name)) result.columnTypes[i] = ColumnTypeEnum.Character;
    });
    return result;
  };
  return adapter;
}

function pgConfig(url: string): pg.ClientConfig & { Client: typeof pg.Client } {
  const { host, port, user, password, database } = parsePgUrl(url);
  return {
    host: host ?? undefined,
    port: port ? Number(port) : 5432,
    user,
    password,
    database: database ?? undefined,
    Client: CharAsTextClient,
  };
}

// adapter-pg's own connectToShadowDb() connects to the main database when given a connection string, so the shadow
// database (where migrations are replayed to compute diffs) is a throw-away one created and dropped here.
function migrationAdapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory & { disposeAll(): Promise<void> } {
  const main = new PrismaPg(pgConfig(url));
  const opened: SqlDriverAdapter[] = [];
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    async connect() {
      const adapter = await connectDescriberSafe(main);
      opened.push(adapter);
      return adapter;
    },
    async disposeAll() {
      await Promise.all(opened.splice(0).map((a) => a.dispose()));
    },
    async connectToShadowDb() {
      const admin = new pg.Client(pgConfig(url));
      await admin.connect();
      const name = `prisma_shadow_${randomUUID().replaceAll('-', '')}`;
      await admin.query(`CREATE DATABASE "${name}"`);
      const adapter = await connectDescriberSafe(new PrismaPg({ ...pgConfig(url), database: name }));
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        try {
          await dispose();
        } finally {
          await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          await admin.end();
        }
      };
      return adapter;
    },
  };
}

let wasmLoaded = false;
// Node 20 cannot `import` a .wasm module, so instantiate it by hand and hand it to the generated bindings.
function loadWasm(): void {
  if (wasmLoaded) return;
  // The engine reports Rust panics through this global, as the Prisma CLI sets it up.
  const global = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message: string; set_message(m: string): void } };
  global.PRISMA_WASM_PANIC_REGISTRY ??= {
    message: '',
    set_message(message) {
      this.message = message;
    },
  };
  const require = createRequire(import.meta.url);
  const file = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm')), 'schema_engine_bg.wasm');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {
    './schema_engine_bg.js': bg,
  });
  const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start(): void };
  bg.__wbg_set_wasm(exports);
  exports.__wbindgen_start();
  wasmLoaded = true;
}

export type Engine = SchemaEngine & { close(): Promise<void> };

export async function openEngine(url: string, schemaFiles: { path: string; content: string }[] = []): Promise<Engine> {
  loadWasm();
  const factory = migrationAdapterFactory(url);
  const engine = (await bg.SchemaEngine.new(
    { datamodels: schemaFiles.map((f) => [f.path, f.content]) },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  )) as Engine;
  engine.close = async () => {
    engine.free();
    await factory.disposeAll();
  };
  return engine;
}

/** The migrations folder in the shape the Prisma CLI hands to the engine. */
export function listMigrations(directory: string): MigrationList {
  const baseDir = path.resolve(directory);
  const lockPath = path.join(baseDir, 'migration_lock.toml');
  const names = existsSync(baseDir)
    ? readdirSync(baseDir)
        .filter((d) => statSync(path.join(baseDir, d)).isDirectory())
        .sort()
    : [];
  return {
    baseDir,
    lockfile: { path: lockPath, content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => {
      const file = path.join(baseDir, name, 'migration.sql');
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: existsSync(file)
            ? { tag: 'ok', value: readFileSync(file, 'utf8') }
            : { tag: 'error', value: 'missing migration.sql' },
        },
      };
    }),
  };
}
