// Delivers the outbox's events (outbox.ts) at least once: each pass claims a batch (FOR UPDATE SKIP LOCKED, so
// instances share the work), hands each event to `deliver` outside any transaction, and marks it delivered, or
// tries it again later with a growing delay when delivery failed (Redis down, say). A claim whose process died is
// picked up again once its claim time has passed. Passes run soon after this process writes an event, when a
// failed delivery is due again, and every `intervalMs` for whatever other instances left behind.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { onOutboxWritten, type OutboxMessage } from './outbox.js';

export type Deliver = (message: OutboxMessage) => Promise<void>;

const BATCH_SIZE = 50;
/** How long a claimed event waits before another pass may take it (its claimer died). */
const CLAIM_SECONDS = 30;
const DELIVERY_TIMEOUT_MS = 5_000;
const MAX_DELAY_SECONDS = 5;
/** Delivered events are kept this long, then deleted. */
const KEEP_DELIVERED_HOURS = 24;
/** After this process writes an event, passes this long later (its transaction has usually committed by then),
 * and again after the next delays while they find nothing. */
const AFTER_WRITE_MS = [20, 100, 500];

interface Claimed {
  id: string;
  topic: string;
  payload: unknown;
  attempts: number;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`delivery took longer than ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a delivery that fails after its timeout is retried anyway
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface OutboxRelay {
  /** Delivers what is due now; returns how many were delivered. */
  flush(): Promise<number>;
  stop(): Promise<void>;
}

export function startOutboxRelay(
  prisma: PrismaClient,
  deliver: Deliver,
  logger: Logger,
  intervalMs: number,
): OutboxRelay {
  let lastCleanup = 0;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, then: () => void) => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      then();
    }, ms);
    timer.unref();
    timers.add(timer);
  };
  const pass = async (): Promise<number> => {
    const claimed = await prisma.$queryRaw<Claimed[]>`
      UPDATE outbox_event SET available_at = now() + make_interval(secs => ${CLAIM_SECONDS}), attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM outbox_event WHERE delivered_at IS NULL AND available_at <= now()
        ORDER BY id LIMIT ${BATCH_SIZE} FOR UPDATE SKIP LOCKED)
      RETURNING id, topic, payload, attempts`;
    const delivered: string[] = [];
    for (const event of claimed.sort((a, b) => a.id.localeCompare(b.id))) {
      try {
        await withTimeout(
          deliver({ topic: event.topic, payload: event.payload } as OutboxMessage),
          DELIVERY_TIMEOUT_MS,
        );
        delivered.push(event.id);
      } catch (error) {
        const delay = Math.min(2 ** (event.attempts - 1) * 0.5, MAX_DELAY_SECONDS);
        logger.warn({ err: error, eventId: event.id, attempts: event.attempts }, 'event delivery failed; will retry');
        await prisma.$executeRaw`
          UPDATE outbox_event SET available_at = now() + make_interval(secs => ${delay}) WHERE id = ${event.id}::uuid`;
        later(delay * 1000 + 10, () => void run());
      }
    }
    if (delivered.length) {
      await prisma.$executeRaw`UPDATE outbox_event SET delivered_at = now() WHERE id = ANY(${delivered}::uuid[])`;
    }
    if (Date.now() - lastCleanup > 60_000) {
      lastCleanup = Date.now();
      await prisma.$executeRaw`
        DELETE FROM outbox_event WHERE delivered_at < now() - make_interval(hours => ${KEEP_DELIVERED_HOURS})`;
    }
    return delivered.length;
  };

  let running: Promise<number> | null = null;
  const run = () =>
    (running ??= pass()
      .catch((error: unknown) => {
        logger.error({ err: error }, 'outbox relay pass failed');
        return 0;
      })
      .finally(() => (running = null)));
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  const afterWrite = (step: number) => () =>
    void run().then((delivered) => {
      if (!delivered && step + 1 < AFTER_WRITE_MS.length) later(AFTER_WRITE_MS[step + 1]!, afterWrite(step + 1));
    });
  const stopListening = onOutboxWritten(() => later(AFTER_WRITE_MS[0]!, afterWrite(0)));
  return {
    async flush() {
      await running;
      return run();
    },
    async stop() {
      stopped = true;
      stopListening();
      clearInterval(timer);
      for (const pending of timers) clearTimeout(pending);
      await running;
    },
  };
}
