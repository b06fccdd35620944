// Sends queued emails. Each pass claims a batch with SKIP LOCKED, so several instances never send one email twice.
import nodemailer from 'nodemailer';
import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Email } from './outbox.js';

export interface MailTransport {
  send(email: Email): Promise<void>;
}

/** Development without SMTP: the email goes to the log, where a developer can copy a reset link from it. */
export const logTransport = (logger: Logger): MailTransport => ({
  async send(email) {
    logger.info({ email }, 'email (not sent: SMTP_URL is not set)');
  },
});

export function smtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    async send({ to, subject, body }) {
      await transporter.sendMail({ from, to, subject, text: body });
    },
  };
}

const BATCH_SIZE = 20;
const MAX_ATTEMPTS = 5;

export interface Mailer {
  /** Sends what is queued now; returns how many were sent. */
  flush(): Promise<number>;
  stop(): Promise<void>;
}

export function startMailer(
  prisma: PrismaClient,
  transport: MailTransport,
  logger: Logger,
  intervalMs: number,
): Mailer {
  const flush = () =>
    prisma.$transaction(async (tx) => {
      const batch = await tx.$queryRaw<(Email & { id: string })[]>`
        SELECT id, "to", subject, body FROM outbox_email
        WHERE sent_at IS NULL AND attempts < ${MAX_ATTEMPTS}
        ORDER BY created_at LIMIT ${BATCH_SIZE} FOR UPDATE SKIP LOCKED`;
      let sent = 0;
      for (const { id, ...email } of batch) {
        try {
          await transport.send(email);
          await tx.outboxEmail.update({ where: { id }, data: { sentAt: new Date(), attempts: { increment: 1 } } });
          sent += 1;
        } catch (error) {
          logger.warn({ err: error, emailId: id }, 'sending email failed; will retry');
          await tx.outboxEmail.update({ where: { id }, data: { attempts: { increment: 1 } } });
        }
      }
      return sent;
    });

  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= flush()
      .catch((error: unknown) => logger.error({ err: error }, 'mailer pass failed'))
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
