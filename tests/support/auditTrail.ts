// The audit rows a piece of work writes, for tests of the audit log.
import type { AuditLogEntry } from '../../src/generated/prisma/client.js';
import type { TestServer } from './testServer.js';

export const allAuditEntries = (server: TestServer) => server.prisma.auditLogEntry.findMany({ orderBy: { id: 'asc' } });

/** Runs `action` and returns the audit rows written meanwhile, oldest first. Reads right after the response: the
 * rows must already be there. */
export async function recordedBy<T>(
  server: TestServer,
  action: () => Promise<T>,
): Promise<{ result: T; rows: AuditLogEntry[] }> {
  const before = new Set((await allAuditEntries(server)).map((row) => row.id));
  const result = await action();
  const rows = (await allAuditEntries(server)).filter((row) => !before.has(row.id));
  return { result, rows };
}
