// Embedded PostgreSQL (PGlite) behind a local socket, so the app and the migration engine use the same pg driver
// and code paths as with a real server.
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';

export interface EmbeddedPostgres {
  url: string;
  db: PGlite;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Keep the data in this directory (created if missing); in memory when omitted. */
  dataDir?: string;
  /** Start from a tarball made by PGlite's dumpDataDir(). */
  loadDataDir?: Blob;
}

export async function startEmbeddedPostgres({ dataDir, loadDataDir }: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Loaded only when used: PGlite's WebAssembly build takes about 45 MB that a server on real PostgreSQL never needs.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create({ dataDir, loadDataDir });
  // PGlite has a single backend, so clients must use one pooled connection. The second slot only lets a pool
  // replace a connection it dropped (pg-pool drops one after any failed query) before the old socket has closed.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
  await server.start();
  return {
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres`,
    db,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
