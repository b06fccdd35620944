// The first admin: from ADMIN_EMAIL/ADMIN_PASSWORD on start, or from `npm run admin:create`. Never a built-in
// password.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { hashPassword, passwordProblem } from '../../auth/passwords.js';
import { INVITATION_TTL_MS, issueSetPasswordEmail } from './accountEmails.js';
import { normalizeEmail } from './validation.js';

export class FirstAdminError extends Error {
  override name = 'FirstAdminError';
}

/** Creates an admin with this email and password unless an admin exists already; returns whether it did. */
export async function ensureFirstAdmin(prisma: PrismaClient, credentials: { email: string; password: string }) {
  if (await prisma.account.findFirst({ where: { role: 'ADMIN' }, select: { id: true } })) return false;
  const email = normalizeEmail(credentials.email);
  const problem = passwordProblem(credentials.password, email);
  if (problem) throw new FirstAdminError(`ADMIN_PASSWORD: ${problem.message}`);
  await prisma.account.create({
    data: {
      email,
      passwordHash: await hashPassword(credentials.password),
      firstName: 'Admin',
      lastName: 'Agora',
      role: 'ADMIN',
    },
  });
  return true;
}

/** Creates an admin without a password and returns a single-use token to set one (also emailed). */
export async function inviteAdmin(
  prisma: PrismaClient,
  person: { email: string; firstName: string; lastName: string },
) {
  const email = normalizeEmail(person.email);
  if (await prisma.account.findUnique({ where: { email }, select: { id: true } })) {
    throw new FirstAdminError(`An account with the email ${email} exists already.`);
  }
  return prisma.$transaction(async (tx) => {
    const account = await tx.account.create({ data: { ...person, email, role: 'ADMIN' } });
    return issueSetPasswordEmail(tx, account, INVITATION_TTL_MS, {
      subject: 'Your Agora admin account',
      intro: 'An admin account was created for you from the command line.',
    });
  });
}
