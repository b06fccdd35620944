// The audit log for admins: a newest-first connection of entries, each naming its actor.
import type { Resolvers } from '../../generated/graphql.js';
import { databaseIdOrUnknown, toGlobalId } from '../../graphql/globalId.js';

export const auditResolvers: Resolvers = {
  Query: {
    auditLog: (_, { filter, ...page }, ctx) =>
      ctx.auditLog.list(
        {
          // An ID that is not an account's matches no entry, as in orders(filter: { customerId }).
          actorId: filter?.actorId ? databaseIdOrUnknown(filter.actorId, 'Account') : null,
          mutation: filter?.mutation,
          outcome: filter?.outcome,
          since: filter?.since,
          until: filter?.until,
        },
        page,
      ),
  },

  AuditLogEntry: {
    id: (entry) => toGlobalId('AuditLogEntry', entry.id),
    actorId: (entry) => toGlobalId('Account', entry.actorId),
    actor: (entry, _, ctx) => ctx.loaders.accountById.load(entry.actorId),
  },
};
