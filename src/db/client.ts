import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

// Prisma's defaults (2 s to get a connection for a transaction, 5 s to finish it) turn a burst of checkouts
// queueing for the pool into errors; waiting a little longer is the better answer under load.
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 20_000 };

const pools = new WeakMap<PrismaClient, pg.Pool>();

/** `statementTimeoutMs` makes PostgreSQL cancel any statement of these connections that runs longer. */
export function createPrismaClient(url: string, poolSize: number, statementTimeoutMs?: number): PrismaClient {
  // The pool is made here rather than by the adapter so that metrics can read its counts and time its queries.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    statement_timeout: statementTimeoutMs || undefined,
  });
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { disposeExternalPool: true }), // $disconnect() ends the pool
    transactionOptions: TRANSACTION_OPTIONS,
  });
  pools.set(prisma, pool);
  return prisma;
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
