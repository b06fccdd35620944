import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

// Prisma's defaults (2 s to get a connection for a transaction, 5 s to finish it) turn a burst of checkouts
// queueing for the pool into errors; waiting a little longer is the better answer under load.
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 20_000 };

const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * `statementTimeoutMs` makes PostgreSQL cancel any statement of these connections that runs longer.
 * `onConnectionError` hears of every connection of the pool that fails (the server ended it, the network dropped
 * it): such a connection is dead, is thrown away, and the next query opens a new one.
 */
export function createPrismaClient(
  url: string,
  poolSize: number,
  statementTimeoutMs?: number,
  onConnectionError?: (error: Error) => void,
): PrismaClient {
  // The pool is made here rather than by the adapter so that metrics can read its counts and time its queries.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    statement_timeout: statementTimeoutMs || undefined,
  });
  listenForConnectionErrors(pool, onConnectionError);
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { disposeExternalPool: true }), // $disconnect() ends the pool
    transactionOptions: TRANSACTION_OPTIONS,
  });
  pools.set(prisma, pool);
  return prisma;
}

/**
 * A pg client emits 'error' when its connection fails, and an 'error' event nobody listens to ends the process. pg's
 * pool listens only while a client is idle, and Prisma's adapter only while it holds one for a transaction: a
 * connection ended between those (as when PostgreSQL terminates it just as a query finishes and the client is being
 * handed to the next one waiting for it) would crash the server. So every client the pool opens gets a listener of
 * its own for as long as it lives, and the pool one too (it repeats its idle clients' errors). The statement a dead
 * connection was running fails as usual, the pool discards the connection, and later queries get new ones.
 */
function listenForConnectionErrors(pool: pg.Pool, onConnectionError?: (error: Error) => void): void {
  const heard = new WeakSet<Error>();
  const report = (error: Error) => {
    if (typeof error === 'object' && error !== null) {
      if (heard.has(error)) return; // the pool repeats what its idle client reported
      heard.add(error);
    }
    onConnectionError?.(error);
  };
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
}

/** The connection pool behind a client made by createPrismaClient (not one extended from it). */
export function poolOf(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('not a client made by createPrismaClient');
  return pool;
}

/** Whether PostgreSQL cancelled the statement behind a Prisma error (57014: statement_timeout or a cancel request). */
export function isStatementCancelled(error: unknown): boolean {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { code?: unknown } } } } | null)?.meta;
  return meta?.driverAdapterError?.cause?.code === '57014';
}
