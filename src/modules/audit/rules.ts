// The audit log is for admins. Its entries are guarded field by field as well, so that no later way of reaching
// an entry (node(id:), a payload) can show it to anyone else.
import { eachField, isAdmin, isPublic } from '../../auth/rules.js';
import type { RuleTree } from '../../graphql/permissions.js';

export const auditRules: RuleTree = {
  Query: { auditLog: isAdmin },
  AuditLogEntry: eachField(isAdmin, [
    'id',
    'actorId',
    'actor',
    'actorRole',
    'operationName',
    'mutation',
    'targetIds',
    'outcome',
    'errorCodes',
    'clientAddress',
    'requestId',
    'createdAt',
  ]),
  AuditLogEntryConnection: eachField(isPublic, ['edges', 'nodes', 'pageInfo', 'totalCount']),
  AuditLogEntryEdge: eachField(isPublic, ['cursor', 'node']),
};
