import type { Prisma } from '../generated/prisma/client.js';

export interface Email {
  to: string;
  subject: string;
  body: string;
}

/** Queues an email in the caller's transaction, so it is sent if and only if the change that causes it commits. */
export async function enqueueEmail(tx: Prisma.TransactionClient, email: Email): Promise<void> {
  await tx.outboxEmail.create({ data: email });
}
