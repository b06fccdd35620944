// At most MAX_ADDRESSES addresses per account: a list the customer grows and reads back whole (Account.addresses,
// whose @listSize is this cap), so what one account can make the server hold in a response stays bounded.
import type { Prisma } from '../../generated/prisma/client.js';
import { requestError, type UserError } from '../userErrors.js';

export const MAX_ADDRESSES = 50;

/**
 * Inside the transaction that adds an address: locks the account's row, so that concurrent adds count one another,
 * and answers LIMIT_REACHED when the account holds MAX_ADDRESSES already.
 */
export async function addressLimitReached(tx: Prisma.TransactionClient, accountId: string): Promise<UserError | null> {
  await tx.$queryRaw`SELECT id FROM "account" WHERE id = ${accountId}::uuid FOR UPDATE`;
  if ((await tx.address.count({ where: { accountId } })) < MAX_ADDRESSES) return null;
  return requestError(
    'LIMIT_REACHED',
    `An account keeps at most ${MAX_ADDRESSES} addresses; delete one to add another.`,
  );
}
