// The emails that carry account tokens: set-password links (reset, invitation) and email-change confirmations.
// Each token is stored only as a digest, and its email keeps it only until sent (enqueueEmail's `secrets`).
import type { Account, PrismaClient } from '../../generated/prisma/client.js';
import { digestOf, newOpaqueToken } from '../../auth/secrets.js';
import { enqueueEmail, redact } from '../../mail/outbox.js';

export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;
export const INVITATION_TTL_MS = 72 * 60 * 60 * 1000;
export const EMAIL_CHANGE_TTL_MS = 24 * 60 * 60 * 1000;

const FIRST_NAME = '{firstName}';
const hours = (ms: number) => Math.round(ms / 3_600_000);

const setPasswordBody = (firstName: string, intro: string, token: string, ttlMs: number) =>
  `Hello ${firstName},\n\n${intro}\n\nTo set your password, use this token with the passwordReset mutation (valid for ${hours(ttlMs)} hours):\n\n${token}\n`;

/** Creates a single-use token to set the account's password and queues the email that carries it. */
export async function issueSetPasswordEmail(
  tx: Parameters<typeof enqueueEmail>[0],
  account: Pick<Account, 'id' | 'email' | 'firstName'>,
  ttlMs: number,
  message: { subject: string; intro: string },
): Promise<string> {
  const token = newOpaqueToken();
  await tx.passwordResetToken.create({
    data: { accountId: account.id, tokenHash: digestOf(token), expiresAt: new Date(Date.now() + ttlMs) },
  });
  await enqueueEmail(tx, {
    to: account.email,
    subject: message.subject,
    body: setPasswordBody(account.firstName, message.intro, token, ttlMs),
    secrets: [token],
  });
  return token;
}

/**
 * A reset token and its email for the enabled account with this (normalised) email, if there is one. The same
 * single statement runs whether or not there is: a token is made and digested either way, and only the rows it
 * writes differ, so neither the work nor the time it takes tells a caller that an account exists.
 */
export async function issueResetEmailIfAccount(prisma: PrismaClient, email: string): Promise<void> {
  const token = newOpaqueToken();
  const intro = 'Someone asked to reset the password of your Agora account. If it was not you, ignore this email.';
  const body = setPasswordBody(FIRST_NAME, intro, token, RESET_TOKEN_TTL_MS);
  // A commit that wrote rows waits for the WAL to reach the disk, one that wrote none does not: that wait alone told
  // known emails apart. Not waiting costs at most a reset email lost in a crash, which the user asks for again.
  await prisma.$transaction([
    prisma.$executeRaw`SET LOCAL synchronous_commit = off`,
    prisma.$executeRaw`
    WITH account AS (
      SELECT id, email, first_name FROM account WHERE email = ${email} AND disabled_at IS NULL
    ), token AS (
      INSERT INTO password_reset_token (id, account_id, token_hash, expires_at)
      SELECT gen_random_uuid(), id, ${digestOf(token)}, ${new Date(Date.now() + RESET_TOKEN_TTL_MS)} FROM account
      RETURNING account_id
    )
    INSERT INTO outbox_email (id, "to", subject, body, redacted_body)
    SELECT gen_random_uuid(), account.email, 'Reset your Agora password',
      replace(${body}, ${FIRST_NAME}, account.first_name), replace(${redact(body, [token])}, ${FIRST_NAME}, account.first_name)
    FROM account JOIN token ON token.account_id = account.id`,
  ]);
}

/** Creates the token that confirms `newEmail` and queues its email to that address; the old address is told. */
export async function issueEmailChange(
  tx: Parameters<typeof enqueueEmail>[0],
  account: Pick<Account, 'id' | 'email' | 'firstName'>,
  newEmail: string,
): Promise<void> {
  const token = newOpaqueToken();
  await tx.emailChangeToken.create({
    data: {
      accountId: account.id,
      newEmail,
      tokenHash: digestOf(token),
      expiresAt: new Date(Date.now() + EMAIL_CHANGE_TTL_MS),
    },
  });
  await enqueueEmail(tx, {
    to: newEmail,
    subject: 'Confirm your new Agora email',
    body: `Hello ${account.firstName},\n\nSomeone asked to make this the email of an Agora account. If it was not you, ignore this email.\n\nTo confirm, use this token with the customerEmailChangeConfirm mutation (valid for ${hours(EMAIL_CHANGE_TTL_MS)} hours):\n\n${token}\n`,
    secrets: [token],
  });
  await enqueueEmail(tx, {
    to: account.email,
    subject: 'Your Agora email is about to change',
    body: `Hello ${account.firstName},\n\nSomeone with your password asked to change the email of your Agora account to ${newEmail}. It changes once that address confirms. If it was not you, change your password now.\n`,
  });
}
