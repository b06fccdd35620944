import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

// Prisma's defaults (2 s to get a connection for a transaction, 5 s to finish it) turn a burst of checkouts
// queueing for the pool into errors; waiting a little longer is the better answer under load.
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 20_000 };

export function createPrismaClient(url: string, poolSize: number): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url, max: poolSize }),
    transactionOptions: TRANSACTION_OPTIONS,
  });
}
