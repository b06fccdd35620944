// Composition root: database, GraphQL server and HTTP routes, wired together once.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import proxyaddr from 'proxy-addr';
import type { Config } from './config.js';
import type { PrismaClient } from './db/client.js';
import { batchLimit, MAX_JSON_NESTING, nestingLimit, requestErrors } from './graphql/protection/httpGuards.js';
import { createSchema, resolvers } from './graphql/schema.js';
import { createGraphQLServer, httpContextFactory } from './graphql/server.js';
import { serveWebSocket } from './graphql/websocket.js';
import { httpLogSerializers, type Logger } from './logger.js';
import { logTransport, smtpTransport, startMailer } from './mail/mailer.js';
import { paymentWebhookRouter } from './modules/payment/webhookRoute.js';
import { createMetrics } from './observability/metrics.js';
import { tracesExporter } from './observability/tracingConfig.js';
import { openRuntime, type Runtime } from './runtime.js';

export interface App {
  prisma: PrismaClient;
  /** The shared services and background workers (tests run recovery passes and relay flushes through it). */
  runtime: Runtime;
  /** Listens on HOST:PORT and returns the GraphQL endpoint's URL. */
  listen(): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish, then closes the database. */
  stop(): Promise<void>;
}

export interface AppOptions {
  /** Trace into these instead of the configured exporter (tests), turning tracing on. */
  spanProcessors?: SpanProcessor[];
}

const REQUEST_ID = /^[\w-]{1,64}$/;

export async function createApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const production = config.NODE_ENV === 'production';
  const runtime = await openRuntime(config, logger);
  const { database, redis, services } = runtime;
  const metrics = createMetrics({ logger, pools: database.pools, jobs: runtime.jobs });
  const mailer = startMailer(
    database.prisma,
    config.SMTP_URL ? smtpTransport(config.SMTP_URL, config.MAIL_FROM) : logTransport(logger),
    logger,
    config.MAILER_INTERVAL_MS,
  );
  const recovery = runtime.startRecovery();

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  const tls = config.TLS_CERT_FILE &&
    config.TLS_KEY_FILE && { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
  // Slow clients (a body trickled in for minutes) are cut off; Node checks these every connectionsCheckingInterval.
  const timeouts = {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(1_000, config.HTTP_HEADERS_TIMEOUT_MS),
  };
  const httpServer = tls ? https.createServer({ ...tls, ...timeouts }, app) : http.createServer(timeouts, app);
  // The OpenTelemetry SDK is loaded only when tracing is on: a server without it does not carry its memory.
  const tracing =
    options.spanProcessors || tracesExporter(config) !== 'none'
      ? (await import('./observability/tracing.js')).startTracing(config, logger, options.spanProcessors)
      : null;
  const schema = tracing ? tracing.traceResolvers(createSchema(), resolvers) : createSchema();
  const httpContext = httpContextFactory(services);
  const apollo = await createGraphQLServer({
    schema,
    config,
    redis,
    metrics: metrics.operations,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { serverWillStart: async () => ({ drainServer: () => subscriptions.dispose() }) },
      ...(tracing ? [tracing.plugin] : []),
    ],
  });
  await apollo.start();
  // Subscriptions (and, when allowed, every operation) over graphql-ws on the same port and path.
  const subscriptions = serveWebSocket({
    httpServer,
    apollo,
    schema,
    config,
    services,
    logger,
    clientAddressOf: (request) =>
      proxyaddr(request, app.get('trust proxy fn') as (address: string, hop: number) => boolean),
  });

  app.use(metrics.http);
  if (tracing) app.use(tracing.httpSpans);
  app.use(
    pinoHttp({
      logger,
      serializers: httpLogSerializers,
      genReqId: (req, res) => {
        const header = req.headers['x-request-id'];
        const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
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
  app.get('/metrics', metrics.endpoint(config.METRICS_TOKEN, production));
  app.use(paymentWebhookRouter(services.paymentProviders, services.paymentWebhooks));
  app.get('/readyz', async (req, res) => {
    // Bounded: when the database stops answering (a network dropping packets, every connection stuck), the probe
    // says so in 2 s instead of waiting with the pool. A query left running finishes or fails on its own.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the database did not answer SELECT 1 within 2000 ms')), 2_000);
    });
    try {
      await Promise.race([database.prisma.$queryRaw`SELECT 1`, timeout]);
      res.json({ status: 'ready' });
    } catch (error) {
      req.log.warn({ err: error }, 'readiness check failed: database unreachable');
      res.status(503).json({ status: 'unavailable' });
    } finally {
      clearTimeout(timer);
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
    ...(tracing ? [tracing.operationSpans] : []),
    expressMiddleware(apollo, {
      context: ({ req }) =>
        httpContext({
          headers: req.headers,
          clientAddress: req.ip ?? req.socket.remoteAddress ?? 'unknown',
          logger: req.log,
        }),
    }),
  );

  app.use(requestErrors);

  return {
    prisma: database.prisma,
    runtime,
    async listen() {
      // A port in use fails the start (the WebSocket server would otherwise swallow the error, and listen would hang).
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.PORT, config.HOST, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const { port } = httpServer.address() as AddressInfo;
      const host = ['0.0.0.0', '::'].includes(config.HOST) ? 'localhost' : config.HOST;
      return `${tls ? 'https' : 'http'}://${host}:${port}/graphql`;
    },
    async stop() {
      try {
        await apollo.stop();
        await mailer.stop();
        await recovery.stop();
      } finally {
        try {
          await runtime.close();
        } finally {
          await tracing?.shutdown();
        }
      }
    },
  };
}
