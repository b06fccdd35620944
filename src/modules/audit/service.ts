// The audit log of staff mutations: written once per request by the auditStaffMutations plugin, read by admins.
import type { AuditLogEntry, AuditOutcome, Prisma, PrismaClient, Role } from '../../generated/prisma/client.js';
import { idsCreatedBetween } from '../../db/timeOrderedIds.js';
import { newestFirst, type Connection, type PageArgs } from '../../graphql/connection.js';

/** One executed mutation field, as the plugin records it. */
export interface AuditRecord {
  actorId: string;
  actorRole: Role;
  operationName: string | null;
  mutation: string;
  targetIds: string[];
  outcome: AuditOutcome;
  errorCodes: string[];
  clientAddress: string | null;
  requestId: string | null;
}

export interface AuditLogFilter {
  actorId?: string | null;
  mutation?: string | null;
  outcome?: AuditOutcome | null;
  since?: Date | null;
  until?: Date | null;
}

export class AuditLogService {
  constructor(private readonly prisma: PrismaClient) {}

  /** Writes a request's entries in one INSERT, in the order given (UUIDv7 IDs keep that order). */
  async record(entries: AuditRecord[]): Promise<void> {
    if (entries.length === 0) return;
    await this.prisma.auditLogEntry.createMany({ data: entries });
  }

  /** Entries newest first. */
  list(filter: AuditLogFilter, args: PageArgs): Promise<Connection<AuditLogEntry>> {
    const where: Prisma.AuditLogEntryWhereInput = {
      ...(filter.actorId && { actorId: filter.actorId }),
      ...(filter.mutation && { mutation: filter.mutation }),
      ...(filter.outcome && { outcome: filter.outcome }),
      ...((filter.since || filter.until) && {
        createdAt: {
          ...(filter.since && { gte: filter.since }),
          ...(filter.until && { lt: filter.until }),
        },
        id: idsCreatedBetween(filter.since, filter.until),
      }),
    };
    return newestFirst(args, {
      findMany: ({ idAfter, descending, take }) =>
        this.prisma.auditLogEntry.findMany({
          where: idAfter ? { AND: [where, { id: idAfter }] } : where,
          orderBy: { id: descending ? 'desc' : 'asc' },
          take,
        }),
      count: () => this.prisma.auditLogEntry.count({ where }),
    });
  }
}
