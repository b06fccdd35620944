// Read replicas through Prisma's read-replicas extension: model reads outside a transaction (findMany, findUnique,
// count, aggregate, groupBy, ...) go to a replica picked at random; writes, every query inside a transaction, and
// raw SQL ($queryRaw, $executeRaw) go to the primary.
import { readReplicas } from '@prisma/extension-read-replicas';
import type { PrismaClient } from './client.js';

/** The extension's view of a client: what `$extends` added to it. */
interface ReplicaRouting {
  $primary(): PrismaClient;
  $replica(): PrismaClient;
}

/**
 * `primary` with reads routed to `replicas`. The extended client has the same model and transaction API as a
 * PrismaClient, so it is typed as one; `$disconnect()` also closes the replicas.
 */
export function withReadReplicas(primary: PrismaClient, replicas: PrismaClient[]): PrismaClient {
  if (replicas.length === 0) return primary;
  // The extended client's type is Prisma's DynamicClientExtensionThis, which the code base need not know about.
  return primary.$extends(readReplicas({ replicas })) as unknown as PrismaClient;
}

const routing = (prisma: PrismaClient) => prisma as unknown as Partial<ReplicaRouting>;

/**
 * A replica for reads the extension would send to the primary, such as a read-only `$queryRaw` (search); the
 * client itself when it has no replicas. Only outside transactions: a transaction client is returned as it is.
 */
export function onReplica(prisma: PrismaClient): PrismaClient {
  const { $replica } = routing(prisma);
  return typeof $replica === 'function' && typeof prisma.$transaction === 'function' ? $replica.call(prisma) : prisma;
}

/** The primary, for a read that must see a write just made (a replica may lag); the client itself without replicas. */
export function onPrimary(prisma: PrismaClient): PrismaClient {
  const { $primary } = routing(prisma);
  return typeof $primary === 'function' ? $primary.call(prisma) : prisma;
}
