// The composition root: what every way of running Agora shares (the HTTP server, a cluster worker, a Lambda
// function) is built here once, each service with everything it depends on: the database, Redis, the domain
// services, the order status bus, the job queue, the outbox relay and the recovery worker.
import { accessTokens } from './auth/tokens.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { prepareData, preparedByPrimary } from './db/startup.js';
import { startOutboxRelay, type OutboxRelay } from './events/relay.js';
import { createSessions, type AppServices } from './graphql/context.js';
import { bullQueue, inProcessQueue, type JobQueue } from './jobs/queue.js';
import type { Logger } from './logger.js';
import { AccountService } from './modules/account/accountService.js';
import { AuthService } from './modules/account/authService.js';
import { accountThrottles } from './modules/account/throttles.js';
import { AuditLogService } from './modules/audit/service.js';
import { CartService } from './modules/cart/service.js';
import { CatalogService } from './modules/catalog/service.js';
import { Recovery, startRecovery } from './modules/checkout/recovery.js';
import { CheckoutService } from './modules/checkout/service.js';
import { InventoryService } from './modules/inventory/index.js';
import { OrderLookupThrottle, OrderService } from './modules/order/index.js';
import { deliverOrderEvents, orderEmailJobs } from './modules/order/notifications.js';
import { OrderStatusBus } from './modules/order/statusBus.js';
import { SandboxProvider } from './modules/payment/sandbox.js';
import { PaymentOperations } from './modules/payment/operations.js';
import { PaymentService } from './modules/payment/service.js';
import { PaymentWebhooks } from './modules/payment/webhooks.js';
import { connectRedis, type Redis } from './redis.js';

export interface Runtime {
  database: Database;
  redis: Redis | null;
  services: AppServices;
  jobs: JobQueue;
  relay: OutboxRelay;
  recovery: Recovery;
  /** Starts the recovery worker's timer (long-running entries; Lambda runs passes on a schedule instead). */
  startRecovery(): { stop(): Promise<void> };
  /** Stops the relay, the bus and the queue, then closes Redis and the database. */
  close(): Promise<void>;
}

export async function openRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const database = await openDatabase(config, logger);
  let redis: Redis | null = null;
  try {
    if (!preparedByPrimary()) await prepareData(database.primary, config, logger);
    redis = await connectRedis(config);
  } catch (error) {
    await database.close();
    throw error;
  }
  const prisma = database.prisma;
  // Payment records are written and read back at once: the processor's ledger and payments stay on the primary.
  const paymentProviders = new Map([['sandbox', new SandboxProvider(database.primary, config.PAYMENT_WEBHOOK_SECRET)]]);
  const tokens = accessTokens(config);
  const sessions = createSessions(prisma, tokens, config.REFRESH_TOKEN_TTL_DAYS);
  const payments = new PaymentService(
    prisma,
    paymentProviders,
    new PaymentOperations(prisma, paymentProviders, logger, config.CHECKOUT_LEASE_MS),
    logger,
  );
  const orders = new OrderService(prisma, payments, new OrderLookupThrottle(redis, config));
  const throttles = accountThrottles(redis, config);
  const checkout = new CheckoutService(
    prisma,
    paymentProviders,
    payments,
    {
      currency: config.STORE_CURRENCY,
      reservationMinutes: config.CHECKOUT_RESERVATION_MINUTES,
      leaseMs: config.CHECKOUT_LEASE_MS,
      replayWaitMs: config.CHECKOUT_REPLAY_WAIT_MS,
    },
    logger,
  );
  const orderStatusBus = new OrderStatusBus(redis, `${config.REDIS_KEY_PREFIX}order-status`);
  const services: AppServices = {
    prisma,
    storeCurrency: config.STORE_CURRENCY,
    accessTokens: tokens,
    paymentProviders,
    orderStatusBus,
    sessions,
    catalog: new CatalogService(prisma, config.STORE_CURRENCY),
    auth: new AuthService(prisma, sessions, throttles),
    accounts: new AccountService(prisma, sessions, throttles),
    inventory: new InventoryService(prisma),
    carts: new CartService(prisma),
    checkout,
    orders,
    payments,
    paymentWebhooks: new PaymentWebhooks(prisma, payments, logger),
    auditLog: new AuditLogService(prisma),
  };
  await orderStatusBus.start();
  // A job reads the order right after it changed: from the primary, never from a replica that may lag.
  const emailJobs = orderEmailJobs(database.primary);
  const jobs = config.REDIS_URL
    ? bullQueue(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}bull`, emailJobs, logger)
    : inProcessQueue(emailJobs, logger);
  const relay = startOutboxRelay(
    database.primary,
    deliverOrderEvents(orderStatusBus, jobs),
    logger,
    config.OUTBOX_RELAY_INTERVAL_MS,
  );
  const recovery = new Recovery(database.primary, checkout, payments, orders, logger);
  return {
    database,
    redis,
    services,
    jobs,
    relay,
    recovery,
    startRecovery: () => startRecovery(recovery, logger, config.RECOVERY_INTERVAL_MS),
    async close() {
      try {
        await relay.stop();
        await orderStatusBus.stop();
        await jobs.close();
      } finally {
        await redis?.quit().catch(() => redis?.disconnect());
        await database.close();
      }
    },
  };
}
