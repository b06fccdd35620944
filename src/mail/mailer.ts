// Sends queued emails. Each email is claimed in a transaction of its own with FOR UPDATE SKIP LOCKED and marked sent
// in it, so several instances never send one email twice and share the work. One email per transaction keeps each
// short: a batch sent in one transaction could outlast the transaction timeout over a slow SMTP server, be rolled
// back after its emails went out, and be sent again by the next pass (every 2 s, for as long as the backlog lasted).
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
  // nodemailer waits up to 2 min to connect and 10 min on a silent socket by default; an email's transaction waits
  // for its send, so fail sooner (the mailer's send timeout is the backstop) and retry on a later pass.
  const transporter = nodemailer.createTransport({
    url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send({ to, subject, body }) {
      await transporter.sendMail({ from, to, subject, text: body });
    },
  };
}

/** Emails one pass sends at most (each once). */
const BATCH_SIZE = 20;
const MAX_ATTEMPTS = 5;
/** A send still running after this counts as failed; its email's transaction lasts at most this plus a margin. */
const SEND_TIMEOUT_MS = 30_000;
const TRANSACTION_MARGIN_MS = 10_000;

export interface Mailer {
  /** Sends what is queued now; returns how many were sent. */
  flush(): Promise<number>;
  stop(): Promise<void>;
}

export interface MailerOptions {
  sendTimeoutMs?: number;
}

type Claimed = Email & { id: string };

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`sending took longer than ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a send that fails after its timeout has nobody left to tell
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function startMailer(
  prisma: PrismaClient,
  transport: MailTransport,
  logger: Logger,
  intervalMs: number,
  { sendTimeoutMs = SEND_TIMEOUT_MS }: MailerOptions = {},
): Mailer {
  /** Claims the oldest unsent email not tried in this pass, sends it and records the outcome, in one transaction. */
  const sendNext = (tried: string[]) =>
    prisma.$transaction(
      async (tx) => {
        const [claimed] = await tx.$queryRaw<Claimed[]>`
          SELECT id, "to", subject, body FROM outbox_email
          WHERE sent_at IS NULL AND attempts < ${MAX_ATTEMPTS} AND NOT (id = ANY(${tried}::uuid[]))
          ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`;
        if (!claimed) return null;
        const { id, ...email } = claimed;
        // Sent, or given up on, an email keeps its redacted body: a token it carried is no longer stored.
        try {
          await withTimeout(transport.send(email), sendTimeoutMs);
          await tx.$executeRaw`
            UPDATE outbox_email SET sent_at = now(), attempts = attempts + 1, body = coalesce(redacted_body, body),
              redacted_body = NULL
            WHERE id = ${id}::uuid`;
          return { id, sent: true };
        } catch (error) {
          logger.warn({ err: error, emailId: id }, 'sending email failed; will retry');
          await tx.$executeRaw`
            UPDATE outbox_email SET attempts = attempts + 1,
              body = CASE WHEN attempts + 1 >= ${MAX_ATTEMPTS} THEN coalesce(redacted_body, body) ELSE body END,
              redacted_body = CASE WHEN attempts + 1 >= ${MAX_ATTEMPTS} THEN NULL ELSE redacted_body END
            WHERE id = ${id}::uuid`;
          return { id, sent: false };
        }
      },
      { timeout: sendTimeoutMs + TRANSACTION_MARGIN_MS },
    );

  let stopping = false;
  /** One pass; `interrupted` ends it early (after the email being sent), as stop() does to a timer's pass. */
  const pass = async (interrupted: () => boolean) => {
    const tried: string[] = [];
    let sent = 0;
    while (!interrupted() && tried.length < BATCH_SIZE) {
      const outcome = await sendNext(tried);
      if (!outcome) break;
      tried.push(outcome.id);
      if (outcome.sent) sent += 1;
    }
    return sent;
  };

  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= pass(() => stopping)
      .catch((error: unknown) => logger.error({ err: error }, 'mailer pass failed'))
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    flush: () => pass(() => false),
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
