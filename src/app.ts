// Composition root: database, GraphQL server and HTTP routes, wired together once.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { ErrorsAreMissesCache, InMemoryLRUCache, PrefixingKeyValueCache } from '@apollo/utils.keyvaluecache';
import cors from 'cors';
import express from 'express';
import { parse, specifiedRules, validate } from 'graphql';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { claimsFromHeaders, liveViewerOf, viewerFromHeaders } from './auth/requestViewer.js';
import { accessTokens } from './auth/tokens.js';
import type { Config } from './config.js';
import type { PrismaClient } from './db/client.js';
import { openDatabase } from './db/database.js';
import { seedCatalog } from './db/seed/catalog.js';
import { seedStoreSettings } from './db/seed/store.js';
import { LoginThrottle } from './auth/loginThrottle.js';
import { createContext, createSessions, type AppServices, type Context } from './graphql/context.js';
import { logTransport, smtpTransport, startMailer } from './mail/mailer.js';
import { ensureFirstAdmin } from './modules/account/firstAdmin.js';
import { auditStaffMutations } from './modules/audit/plugin.js';
import { startReservationSweeper } from './modules/checkout/reservationSweeper.js';
import { OrderService } from './modules/order/service.js';
import { OrderStatusBus } from './modules/order/statusBus.js';
import { notifyOnStatusChange, orderEmailJobs } from './modules/order/notifications.js';
import { bullQueue, inProcessQueue } from './jobs/queue.js';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { SandboxProvider } from './modules/payment/sandbox.js';
import { PaymentService } from './modules/payment/service.js';
import { paymentWebhookRouter } from './modules/payment/webhookRoute.js';
import { connectRedis, type Redis } from './redis.js';
import { RedisKeyValueCache } from './cache/redisKeyValueCache.js';
import { formatError } from './graphql/errors.js';
import { CostModel } from './graphql/protection/cost.js';
import { executionTimeLimit } from './graphql/protection/executionTimeout.js';
import { batchLimit, MAX_JSON_NESTING, nestingLimit, requestErrors } from './graphql/protection/httpGuards.js';
import { memoryBuckets, redisBuckets } from './graphql/protection/leakyBucket.js';
import { documentLimitRules } from './graphql/protection/limits.js';
import { queryCost } from './graphql/protection/queryCost.js';
import { sessionCheck } from './graphql/sessionCheck.js';
import {
  loadTrustedDocuments,
  onlyTrustedDocuments,
  PersistedQueryStore,
} from './graphql/protection/trustedDocuments.js';
import { rejectNulCharacters } from './graphql/nulCharacters.js';
import { operationLogging } from './graphql/operationLogging.js';
import { createSchema } from './graphql/schema.js';
import type { Logger } from './logger.js';

export interface App {
  prisma: PrismaClient;
  /** Listens on HOST:PORT and returns the GraphQL endpoint's URL. */
  listen(): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish, then closes the database. */
  stop(): Promise<void>;
}

const REQUEST_ID = /^[\w-]{1,64}$/;

/** First-start data: the demo catalog and the first admin, each only when configured and missing. */
async function prepareData(prisma: PrismaClient, config: Config, logger: Logger): Promise<void> {
  if (config.SEED_DEMO_CATALOG) {
    logger.info(await seedCatalog(prisma, { products: config.SEED_PRODUCTS }), 'demo catalog ready');
    await seedStoreSettings(prisma);
  }
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const created = await ensureFirstAdmin(prisma, { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
    if (created) logger.info({ email: config.ADMIN_EMAIL }, 'created the first admin from ADMIN_EMAIL');
  }
}

export async function createApp(config: Config, logger: Logger): Promise<App> {
  const production = config.NODE_ENV === 'production';
  const database = await openDatabase(config, logger);
  let redis: Redis | null = null;
  try {
    await prepareData(database.prisma, config, logger);
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
  const emailJobs = orderEmailJobs(database.prisma);
  const jobs = config.REDIS_URL
    ? bullQueue(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}bull`, emailJobs, logger)
    : inProcessQueue(emailJobs, logger);
  notifyOnStatusChange(services.orderStatusBus, jobs, logger);
  const sessions = createSessions(services);
  const mailer = startMailer(
    database.prisma,
    config.SMTP_URL ? smtpTransport(config.SMTP_URL, config.MAIL_FROM) : logTransport(logger),
    logger,
    config.MAILER_INTERVAL_MS,
  );
  const sweeper = startReservationSweeper(
    new OrderService(database.prisma),
    logger,
    config.RESERVATION_SWEEP_INTERVAL_MS,
  );

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  const tls = config.TLS_CERT_FILE &&
    config.TLS_KEY_FILE && { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
  const httpServer = tls ? https.createServer(tls, app) : http.createServer(app);
  const schema = createSchema();
  const limitRules = documentLimitRules({
    depth: config.MAX_QUERY_DEPTH,
    aliases: config.MAX_ALIASES,
    directives: config.MAX_DIRECTIVES,
    length: config.MAX_QUERY_LENGTH,
    mutations: config.MAX_MUTATIONS,
  });
  const trusted = config.TRUSTED_DOCUMENTS_MANIFEST
    ? await loadTrustedDocuments(config.TRUSTED_DOCUMENTS_MANIFEST)
    : new Map<string, string>();
  const registeredQueries = redis
    ? new ErrorsAreMissesCache(new RedisKeyValueCache(redis, `${config.REDIS_KEY_PREFIX}apq:`))
    : new InMemoryLRUCache<string>();
  // Subscriptions: graphql-ws on the same port and path, signed in by an `authorization` connection parameter.
  const subscriptions = useServer<{ authorization?: unknown }>(
    {
      schema,
      parse: (source) => parse(source, { maxTokens: config.MAX_TOKENS }),
      validate: (target, document) => validate(target, document, [...specifiedRules, ...limitRules]),
      context: async ({ connectionParams, extra }) => {
        const authorization =
          typeof connectionParams?.authorization === 'string' ? connectionParams.authorization : undefined;
        const viewer = await viewerFromHeaders({ authorization }, services.accessTokens, (claims) =>
          sessions.viewerFor(claims),
        );
        const context = createContext(services, {
          findViewer: () => Promise.resolve(viewer),
          clientAddress: extra.request.socket.remoteAddress ?? 'unknown',
          logger,
        });
        await context.authenticate();
        return context;
      },
    },
    new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.MAX_BODY_BYTES }),
  );
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.INTROSPECTION,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false, // main.ts owns shutdown: drain HTTP, then close the database
    csrfPrevention: true,
    allowBatchedHttpRequests: config.MAX_BATCH_SIZE > 0,
    parseOptions: { maxTokens: config.MAX_TOKENS },
    validationRules: limitRules,
    persistedQueries: {
      // Unprefixed: manifest hashes are looked up as they are, and the Redis store has a prefix of its own.
      cache: PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(
        new PersistedQueryStore(trusted, config.TRUSTED_DOCUMENTS === 'strict' ? null : registeredQueries),
      ),
      ttl: 24 * 60 * 60,
    },
    formatError: (formatted, error) =>
      formatError(formatted, error, { maxTokens: config.MAX_TOKENS, hideSuggestions: production }),
    plugins: [
      sessionCheck,
      queryCost({
        model: new CostModel(schema),
        buckets: redis ? redisBuckets(redis, `${config.REDIS_KEY_PREFIX}cost:`) : memoryBuckets(),
        maxCost: config.MAX_QUERY_COST,
        limits: {
          anonymous: config.RATE_LIMIT_ANONYMOUS,
          customer: config.RATE_LIMIT_CUSTOMER,
          staff: config.RATE_LIMIT_STAFF,
        },
      }),
      executionTimeLimit(config.OPERATION_TIMEOUT_MS),
      ...(config.TRUSTED_DOCUMENTS === 'strict'
        ? [onlyTrustedDocuments(trusted, config.TRUSTED_DOCUMENTS_EXEMPT_ROLES)]
        : []),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { serverWillStart: async () => ({ drainServer: () => subscriptions.dispose() as Promise<void> }) },
      operationLogging,
      rejectNulCharacters,
      auditStaffMutations,
      production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault(),
      ...(production ? [ApolloServerPluginDisableSuggestions()] : []),
    ],
  });
  await apollo.start();

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const header = req.headers['x-request-id'];
        const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  app.use(
    helmet({
      // Apollo's landing page (development only) loads Sandbox from its CDN.
      contentSecurityPolicy: production ? undefined : false,
      strictTransportSecurity: production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(
    paymentWebhookRouter(
      services.paymentProviders,
      new PaymentService(database.prisma, services.paymentProviders, logger),
    ),
  );
  app.get('/readyz', async (req, res) => {
    try {
      await database.prisma.$queryRaw`SELECT 1`;
      res.json({ status: 'ready' });
    } catch (error) {
      req.log.warn({ err: error }, 'readiness check failed: database unreachable');
      res.status(503).json({ status: 'unavailable' });
    }
  });
  app.use(
    '/graphql',
    cors({
      origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
      methods: ['GET', 'POST'],
      maxAge: 600,
    }),
    express.json({ limit: config.MAX_BODY_BYTES }),
    batchLimit(config.MAX_BATCH_SIZE),
    nestingLimit(MAX_JSON_NESTING),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const claims = await claimsFromHeaders(req.headers, services.accessTokens);
        return createContext(services, {
          findViewer: () => liveViewerOf(claims, (verified) => sessions.viewerFor(verified)),
          clientAddress: req.ip ?? req.socket.remoteAddress ?? 'unknown',
          logger: req.log,
        });
      },
    }),
  );

  app.use(requestErrors);

  return {
    prisma: database.prisma,
    async listen() {
      await new Promise<void>((resolve) => httpServer.listen(config.PORT, config.HOST, resolve));
      const { port } = httpServer.address() as AddressInfo;
      const host = ['0.0.0.0', '::'].includes(config.HOST) ? 'localhost' : config.HOST;
      return `${tls ? 'https' : 'http'}://${host}:${port}/graphql`;
    },
    async stop() {
      try {
        await apollo.stop();
        await mailer.stop();
        await sweeper.stop();
        await services.orderStatusBus.stop();
        await jobs.close();
      } finally {
        await redis?.quit();
        await database.close();
      }
    },
  };
}
