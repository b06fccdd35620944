import type { Account, Address, PrismaClient } from '../../generated/prisma/client.js';
import { loaderByKey, loaderGroupedBy } from '../../db/batch.js';

export function createAccountLoaders(prisma: PrismaClient) {
  return {
    accountById: loaderByKey<string, Account>(
      (ids) => prisma.account.findMany({ where: { id: { in: [...ids] } } }),
      (account) => account.id,
    ),
    addressById: loaderByKey<string, Address>(
      (ids) => prisma.address.findMany({ where: { id: { in: [...ids] } } }),
      (address) => address.id,
    ),
    addressesByAccountId: loaderGroupedBy<string, Address>(
      (accountIds) =>
        prisma.address.findMany({
          where: { accountId: { in: [...accountIds] } },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
      (address) => address.accountId,
    ),
  };
}

export type AccountLoaders = ReturnType<typeof createAccountLoaders>;
