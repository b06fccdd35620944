// Background work that runs in every instance stays correct with many instances over one database and one Redis:
// the mailer sends each email once, the outbox relay delivers each event once (and again later when delivery failed),
// the recovery worker cancels each expired reservation once, and the job queue runs a job once however many
// instances add it, logs Redis trouble through the logger and lets go of its connections.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { PrismaPg } from '@prisma/adapter-pg';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../src/db/client.js';
import { seedStoreSettings } from '../src/db/seed/store.js';
import type { OutboxMessage } from '../src/events/outbox.js';
import { startOutboxRelay, type OutboxRelay } from '../src/events/relay.js';
import { PrismaClient as GeneratedPrismaClient } from '../src/generated/prisma/client.js';
import { bullQueue, type JobQueue } from '../src/jobs/queue.js';
import { createLogger } from '../src/logger.js';
import { startMailer, type MailTransport } from '../src/mail/mailer.js';
import type { Email } from '../src/mail/outbox.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { pendingPaymentOrder } from './support/orders.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const REDIS_URL = process.env.REDIS_URL;
/** Tests of two instances at once need a PostgreSQL server: the embedded database has a single backend session,
 * which a second instance's transactions would share with the first's. */
const ON_SERVER = Boolean(inject('templateDatabaseUrl'));
const logger = createLogger({ LOG_LEVEL: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let database: TestDatabase;
let server: TestServer;
/** Clients of "other instances", closed after each test. */
const others: PrismaClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({ database });
  await seedStoreSettings(server.prisma);
});
afterEach(async () => {
  await Promise.all(others.splice(0).map((client) => client.$disconnect()));
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

/** Another instance's connection to the same database. */
function otherInstance(): PrismaClient {
  const client = createPrismaClient(database.url, 3);
  others.push(client);
  return client;
}

/** A transport that takes `delayMs` per email and records what it sent. */
function recordingTransport(delayMs = 0) {
  const sent: Email[] = [];
  const transport: MailTransport = {
    async send(email) {
      await sleep(delayMs);
      sent.push(email);
    },
  };
  return { sent, transport };
}

async function queueEmails(count: number, prefix: string) {
  await server.prisma.outboxEmail.deleteMany();
  await server.prisma.outboxEmail.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      to: `${prefix}-${i}@example.test`,
      subject: `${prefix} ${i}`,
      body: String(i),
      createdAt: new Date(Date.now() - 60_000 + i),
    })),
  });
}

const counts = (emails: Email[]) =>
  emails.reduce((map, email) => map.set(email.subject, (map.get(email.subject) ?? 0) + 1), new Map<string, number>());

describe('the outbox mailer', () => {
  it('sends a backlog once even when sending it takes longer than a transaction may last', async () => {
    // A 1-s limit on this client's transactions stands in for the 20-s default meeting a slow SMTP server. A pass
    // that sent its whole batch inside one transaction was rolled back after the emails had gone out, and the next
    // pass sent them all again.
    const client = new GeneratedPrismaClient({
      adapter: new PrismaPg({ connectionString: database.url, max: 1 }),
      transactionOptions: { timeout: 1_000, maxWait: 10_000 },
    });
    others.push(client);
    await queueEmails(4, 'slow');
    const { sent, transport } = recordingTransport(400);
    const mailer = startMailer(client, transport, logger, 3_600_000);
    await mailer.flush().catch(() => 0);
    await mailer.flush().catch(() => 0);
    await mailer.stop();
    expect([...counts(sent).values()]).toEqual([1, 1, 1, 1]);
    expect(await server.prisma.outboxEmail.count({ where: { sentAt: null } })).toBe(0);
  });

  it('counts a send that hangs past its timeout as a failed attempt, and goes on with the others', async () => {
    await queueEmails(2, 'hang');
    const sent: string[] = [];
    const transport: MailTransport = {
      send: (email) =>
        email.to === 'hang-0@example.test' ? new Promise(() => {}) : Promise.resolve(void sent.push(email.to)),
    };
    const mailer = startMailer(server.prisma, transport, logger, 3_600_000, { sendTimeoutMs: 300 });
    const started = Date.now();
    expect(await mailer.flush()).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    await mailer.stop();
    expect(sent).toEqual(['hang-1@example.test']);
    expect(
      await server.prisma.outboxEmail.findFirstOrThrow({
        where: { to: 'hang-0@example.test' },
        select: { sentAt: true, attempts: true },
      }),
    ).toEqual({ sentAt: null, attempts: 1 });
  });

  it.skipIf(!ON_SERVER)(
    'shares the outbox between two instances, each email sent once (PostgreSQL server)',
    async () => {
      await queueEmails(30, 'shared');
      const a = recordingTransport(5);
      const b = recordingTransport(5);
      const mailerA = startMailer(otherInstance(), a.transport, logger, 3_600_000);
      const mailerB = startMailer(otherInstance(), b.transport, logger, 3_600_000);
      await Promise.all([mailerA.flush(), mailerB.flush()]);
      await Promise.all([mailerA.flush(), mailerB.flush()]);
      await Promise.all([mailerA.stop(), mailerB.stop()]);
      const all = counts([...a.sent, ...b.sent]);
      expect(all.size).toBe(30);
      expect([...all.values()].every((n) => n === 1)).toBe(true);
      expect(a.sent.length).toBeGreaterThan(0); // both instances did part of the work
      expect(b.sent.length).toBeGreaterThan(0);
    },
  );
});

describe('the outbox relay', () => {
  const relays: OutboxRelay[] = [];
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  });

  /** Unique events nobody else handles (the server's own relay, started after writes, is let finish first). */
  async function writeEvents(count: number): Promise<string[]> {
    await server.runtime.relay.flush();
    await sleep(700);
    const orderIds = Array.from({ length: count }, () => randomUUID());
    await server.prisma.outboxEvent.createMany({
      data: orderIds.map((orderId) => ({ topic: 'order.changed', payload: { orderId, moves: [] } })),
    });
    return orderIds;
  }

  /** A relay of another instance that records what it delivers (taking `delayMs` each); `fail` refuses some. */
  function recordingRelay(prisma: PrismaClient, delayMs = 0, fail: (orderId: string) => boolean = () => false) {
    const delivered: string[] = [];
    const relay = startOutboxRelay(
      prisma,
      async ({ payload }: OutboxMessage) => {
        await sleep(delayMs);
        if (fail(payload.orderId)) throw new Error('Redis is down');
        delivered.push(payload.orderId);
      },
      logger,
      3_600_000,
    );
    relays.push(relay);
    return { delivered, relay };
  }

  const undelivered = (orderIds: string[]) =>
    server.prisma.outboxEvent.count({
      where: {
        deliveredAt: null,
        OR: orderIds.map((orderId) => ({ payload: { path: ['orderId'], equals: orderId } })),
      },
    });

  it('delivers a failed event again later, once delivery works, and the others at once', async () => {
    const [down, up] = await writeEvents(2);
    let redisDown = true;
    const { delivered, relay } = recordingRelay(server.prisma, 0, (orderId) => redisDown && orderId === down);

    expect(await relay.flush()).toBe(1);
    expect(delivered).toEqual([up]);
    expect(await relay.flush()).toBe(0); // not due again yet
    redisDown = false;
    for (let i = 0; i < 150 && delivered.length < 2; i++) await sleep(20); // the relay retries on its own
    expect(delivered).toEqual([up, down]);
    expect(await undelivered([down!, up!])).toBe(0);
    expect(await relay.flush()).toBe(0);
  });

  it.skipIf(!ON_SERVER)(
    'shares the events between two instances, each delivered once (PostgreSQL server)',
    async () => {
      const orderIds = await writeEvents(120);
      const a = recordingRelay(otherInstance(), 5);
      const b = recordingRelay(otherInstance(), 5);
      for (let i = 0; i < 5; i++) await Promise.all([a.relay.flush(), b.relay.flush()]);
      const all = [...a.delivered, ...b.delivered];
      expect(all.toSorted()).toEqual(orderIds.toSorted());
      expect(a.delivered.length).toBeGreaterThan(0); // both instances did part of the work
      expect(b.delivered.length).toBeGreaterThan(0);
      expect(await undelivered(orderIds)).toBe(0);
    },
  );
});

describe.skipIf(!ON_SERVER)('the recovery worker in two instances (PostgreSQL server)', () => {
  let variantId: string;
  let other: TestServer;

  beforeAll(async () => {
    other = await startTestServer({ database });
    const staff = await server.tokenFor('STAFF');
    await server.gql(
      'mutation { productCreate(input: { title: "Kettle", variants: [{ sku: "KETTLE-1", price: "30.00", inventoryQuantity: 10 }] }) { product { id } } }',
      {},
      staff,
    );
    variantId = (await server.prisma.productVariant.findUniqueOrThrow({ where: { sku: 'KETTLE-1' } })).id;
  });
  afterAll(() => other?.close());

  const pendingOrder = (i: number) => pendingPaymentOrder(server, variantId, { email: `guest-${i}@example.test` });

  it('cancels each expired order once, voids its authorization once and releases its stock once when both run at the same time', async () => {
    const orderIds = await Promise.all([1, 2, 3, 4, 5].map(pendingOrder));
    await server.prisma.order.updateMany({
      where: { id: { in: orderIds } },
      data: { reservedUntil: new Date(Date.now() - 1_000) },
    });
    const stock = () =>
      server.prisma.productVariant.findUniqueOrThrow({
        where: { id: variantId },
        select: { stockOnHand: true, stockReserved: true },
      });
    expect(await stock()).toEqual({ stockOnHand: 10, stockReserved: 5 });

    const swept = await Promise.all([
      server.runtime.recovery.expireReservations(),
      other.runtime.recovery.expireReservations(),
    ]);
    expect(await stock()).toEqual({ stockOnHand: 10, stockReserved: 0 });
    const orders = await server.prisma.order.findMany({ where: { id: { in: orderIds } }, include: { payments: true } });
    expect(orders.map((order) => [order.status, order.financialStatus])).toEqual(
      orderIds.map(() => ['CANCELLED', 'VOIDED']),
    );
    const keys = orders.flatMap((order) => order.payments.map((payment) => payment.idempotencyKey!));
    const charges = await server.prisma.sandboxCharge.findMany({ where: { idempotencyKey: { in: keys } } });
    expect(charges.map((charge) => charge.voided)).toEqual([true, true, true, true, true]);
    const events = await server.prisma.orderEvent.groupBy({
      by: ['orderId', 'kind'],
      where: { orderId: { in: orderIds }, toStatus: { in: ['CANCELLED', 'VOIDED'] } },
      _count: true,
    });
    expect(events.map((row) => row._count)).toEqual(Array(10).fill(1));
    expect(await other.runtime.recovery.expireReservations()).toBe(0);
    // each cancellation is counted by the instance that made it, not by both
    expect(swept[0] + swept[1]).toBe(5);
  });
});

describe('the BullMQ job queue', () => {
  const queues: JobQueue[] = [];
  afterAll(() => Promise.all(queues.map((queue) => queue.close())));

  it('logs an unreachable Redis through the logger, not stderr, and still closes', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const lines: { msg: string; source?: string }[] = [];
    const captured = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const queue = bullQueue(`redis://127.0.0.1:${port}`, 'unreachable', async () => {}, captured, {
        closeTimeoutMs: 500,
      });
      await sleep(500);
      const started = Date.now();
      await queue.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(lines.map((line) => line.msg)).toContain(
        'job queue: Redis error (retrying; repeats are not logged for 30 s)',
      );
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
    }
  });

  describe.skipIf(!REDIS_URL)('with Redis', () => {
    it('runs a job once when two instances add it (each instance hears of every order change)', async () => {
      const prefix = `agora-test-${crypto.randomUUID()}:bull`;
      const runs: string[] = [];
      const handler = async (name: string) => void runs.push(name);
      const a = bullQueue(REDIS_URL!, prefix, handler, logger);
      const b = bullQueue(REDIS_URL!, prefix, handler, logger);
      queues.push(a, b);
      await Promise.all([
        a.add('order.shipped', { orderId: 'o1' }, 'order.shipped-o1'),
        b.add('order.shipped', { orderId: 'o1' }, 'order.shipped-o1'),
      ]);
      for (let i = 0; i < 100 && runs.length === 0; i++) await sleep(20);
      await sleep(300);
      expect(runs).toEqual(['order.shipped']);
    });

    it('closes the Redis connections it opened', async () => {
      const prefix = `agora-test-${crypto.randomUUID()}:bull`;
      const queue = bullQueue(REDIS_URL!, prefix, async () => {}, logger);
      const redis = new Redis(REDIS_URL!);
      try {
        const named = async () =>
          String(await redis.call('CLIENT', 'LIST'))
            .split('\n')
            .filter((line: string) => line.includes(`name=${prefix}:jobs `)).length;
        for (let i = 0; i < 50 && (await named()) < 2; i++) await sleep(20);
        expect(await named()).toBeGreaterThanOrEqual(2);
        await queue.close();
        for (let i = 0; i < 50 && (await named()) > 0; i++) await sleep(20);
        expect(await named()).toBe(0);
      } finally {
        await redis.quit();
      }
    });
  });
});
