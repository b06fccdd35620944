import type { Prisma } from '../generated/prisma/client.js';

export interface Email {
  to: string;
  subject: string;
  body: string;
}

/** Stands in a stored email's body for a secret it carried, once the email has gone. */
export const REDACTED = '[removed after sending]';

/** The body with each secret replaced, or null when it carries none. */
export function redact(body: string, secrets: string[]): string | null {
  return secrets.length ? secrets.reduce((text, secret) => text.replaceAll(secret, REDACTED), body) : null;
}

/**
 * Queues an email in the caller's transaction, so it is sent if and only if the change that causes it commits.
 * `secrets` (tokens the body carries) are kept only until the email is sent: the mailer then keeps the body without
 * them.
 */
export async function enqueueEmail(
  tx: Prisma.TransactionClient,
  { secrets = [], ...email }: Email & { secrets?: string[] },
): Promise<void> {
  await tx.outboxEmail.create({ data: { ...email, redactedBody: redact(email.body, secrets) } });
}
