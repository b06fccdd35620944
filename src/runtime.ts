// What every way of running Agora shares (the HTTP server, a cluster worker, a Lambda function): the database,
// Redis, the domain services' shared parts, the order status bus and the job queue.
import { LoginThrottle } from './auth/loginThrottle.js';
import { accessTokens } from './auth/tokens.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { prepareData, preparedByPrimary } from './db/startup.js';
import type { AppServices } from './graphql/context.js';
import { bullQueue, inProcessQueue, type JobQueue } from './jobs/queue.js';
import type { Logger } from './logger.js';
import { notifyOnStatusChange, orderEmailJobs } from './modules/order/notifications.js';
import { OrderStatusBus } from './modules/order/statusBus.js';
import { SandboxProvider } from './modules/payment/sandbox.js';
import { connectRedis, type Redis } from './redis.js';

export interface Runtime {
  database: Database;
  redis: Redis | null;
  services: AppServices;
  jobs: JobQueue;
  /** Stops the bus and the queue, then closes Redis and the database. */
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
  const services: AppServices = {
    prisma: database.prisma,
    storeCurrency: config.STORE_CURRENCY,
    accessTokens: accessTokens(config),
    loginThrottle: new LoginThrottle(redis, config.REDIS_KEY_PREFIX),
    refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
    paymentProviders: new Map([['sandbox', new SandboxProvider(config.PAYMENT_WEBHOOK_SECRET)]]),
    reservationMinutes: config.CHECKOUT_RESERVATION_MINUTES,
    orderStatusBus: new OrderStatusBus(redis, `${config.REDIS_KEY_PREFIX}order-status`, logger),
  };
  await services.orderStatusBus.start();
  // A job reads the order right after it changed: from the primary, never from a replica that may lag.
  const emailJobs = orderEmailJobs(database.primary);
  const jobs = config.REDIS_URL
    ? bullQueue(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}bull`, emailJobs, logger)
    : inProcessQueue(emailJobs, logger);
  notifyOnStatusChange(services.orderStatusBus, jobs, logger);
  return {
    database,
    redis,
    services,
    jobs,
    async close() {
      try {
        await services.orderStatusBus.stop();
        await jobs.close();
      } finally {
        await redis?.quit();
        await database.close();
      }
    },
  };
}
