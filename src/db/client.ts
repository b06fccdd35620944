import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

// Prisma's defaults (2 s to get a connection for a transaction, 5 s to finish it) turn a burst of checkouts
// queueing for the pool into errors; waiting a little longer is the better answer under load.
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 20_000 };

/** `statementTimeoutMs` makes PostgreSQL cancel any statement of these connections that runs longer. */
export function createPrismaClient(url: string, poolSize: number, statementTimeoutMs?: number): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url, max: poolSize, statement_timeout: statementTimeoutMs || undefined }),
    transactionOptions: TRANSACTION_OPTIONS,
  });
}

/** Whether PostgreSQL cancelled the statement behind a Prisma error (57014: statement_timeout or a cancel request). */
export function isStatementCancelled(error: unknown): boolean {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { code?: unknown } } } } | null)?.meta;
  return meta?.driverAdapterError?.cause?.code === '57014';
}
