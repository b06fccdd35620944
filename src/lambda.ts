// AWS Lambda entry points: the GraphQL server of the HTTP app (same schema, shield rules, limits, cost and
// throttling, persisted operations, error masking and plugins) behind API Gateway. Everything is built lazily on a
// container's first invocation (its cold start) and reused by the invocations after it. The HTTP-only parts stay out:
// express and its middleware, graphql-ws subscriptions, payment webhooks, and the background loops (mailer,
// reservation sweeper), which `maintenanceHandler` runs one pass of on a schedule instead. See docs/lambda.md.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { ApolloServer } from '@apollo/server';
// The integration is CommonJS, so its parameter is typed with @apollo/server's CommonJS declarations (the same class).
import type { ApolloServer as CommonJsApolloServer } from '@apollo/server' with { 'resolution-mode': 'require' };
import { handlers, startServerAndCreateLambdaHandler } from '@as-integrations/aws-lambda';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context as LambdaContext,
} from 'aws-lambda';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Context } from './graphql/context.js';
import { MAX_JSON_NESTING, nestingDeeperThan } from './graphql/protection/httpGuards.js';
import { createSchema } from './graphql/schema.js';
import { createGraphQLServer, httpContextFactory } from './graphql/server.js';
import { createLogger, type Logger } from './logger.js';
import { logTransport, smtpTransport, startMailer, type Mailer } from './mail/mailer.js';
import type { RecoveryPass } from './modules/checkout/recovery.js';
import { openRuntime, type Runtime } from './runtime.js';

type Api = 'httpApi' | 'restApi';
type AnyEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;
type AnyResult = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult;
type Invoke = (event: AnyEvent, context: LambdaContext) => Promise<AnyResult>;

interface Container {
  config: Config;
  logger: Logger;
  runtime: Runtime;
  httpContext: ReturnType<typeof httpContextFactory>;
  /** One Apollo server per kind of event this container has been invoked with (in practice, one). */
  servers: Map<Api, Promise<{ apollo: ApolloServer<Context>; invoke: Invoke }>>;
  mailer?: Mailer;
}

let container: Promise<Container> | null = null;

/** The request's logger (bound to its ids) while an invocation runs, for the parts that only see the event. */
const requestLogger = new AsyncLocalStorage<Logger>();

/** What a function needs beyond the HTTP app: a database it does not embed, and one signing key for every container
 * (outside production the app would make a random one per process, and a token from one container would be refused
 * by the next). */
function lambdaConfig(env: NodeJS.ProcessEnv): Config {
  const problems = [
    !env.DATABASE_URL && 'DATABASE_URL: required in Lambda (an embedded database would live and die with a container)',
    !env.JWT_SECRET && 'JWT_SECRET: required in Lambda (every container must sign and verify with the same key)',
  ].filter(Boolean);
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  // Defaults of its own, unless set: a container serves one request at a time, so a small pool; and a production
  // database is no place for a demo catalog to appear in because a cold start found it empty.
  return loadConfig({ DATABASE_POOL_SIZE: '2', SEED_DEMO_CATALOG: 'false', ...env });
}

async function coldStart(): Promise<Container> {
  const config = lambdaConfig(process.env);
  const logger = createLogger(config);
  const started = performance.now();
  const runtime = await openRuntime(config, logger);
  logger.info({ durationMs: Math.round(performance.now() - started) }, 'lambda container ready');
  return { config, logger, runtime, httpContext: httpContextFactory(runtime.services), servers: new Map() };
}

/** The container's runtime, opened on its first invocation; a failed start is retried by the next invocation. */
function openContainer(): Promise<Container> {
  container ??= coldStart().catch((error: unknown) => {
    container = null;
    throw error;
  });
  return container;
}

// ---------------------------------------------------------------------------------------------------------------
// What express does for the HTTP app before GraphQL sees a request: body size, JSON syntax, batching and nesting.

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extensions: object = {},
  ) {
    super(message);
  }
}

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

/** The integration's request handler behind the HTTP app's request guards, answering refusals (and masking anything
 * unexpected) as GraphQL errors in JSON rather than the integration's plain-text error message. */
function guarded<Event extends AnyEvent, Result>(
  inner: handlers.RequestHandler<Event, Result>,
  config: Config,
  logger: Logger,
): handlers.RequestHandler<Event, Result | APIGatewayProxyResult> {
  const log = () => requestLogger.getStore() ?? logger;
  return {
    fromEvent(event) {
      const bytes = event.body ? Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : 0;
      if (bytes > config.MAX_BODY_BYTES) {
        const maximum = config.MAX_BODY_BYTES;
        const message = `The request body is larger than the maximum of ${maximum} bytes.`;
        throw new Refusal(413, 'PAYLOAD_TOO_LARGE', message, { maximum });
      }
      let request;
      try {
        request = inner.fromEvent(event);
      } catch (error) {
        if (error instanceof SyntaxError) throw new Refusal(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
        throw error;
      }
      const { body } = request;
      if (Array.isArray(body) && body.length > config.MAX_BATCH_SIZE) {
        const maximum = config.MAX_BATCH_SIZE;
        const message =
          maximum === 0
            ? 'Batched requests are turned off: send one operation per request.'
            : `The request batches ${body.length} operations, above the maximum of ${maximum}.`;
        throw new Refusal(400, 'BATCH_LIMIT_EXCEEDED', message, { maximum, found: body.length });
      }
      if (nestingDeeperThan(body, MAX_JSON_NESTING)) {
        const message = `The request body nests arrays or objects deeper than ${MAX_JSON_NESTING} levels.`;
        throw new Refusal(400, 'BAD_REQUEST', message, { maximum: MAX_JSON_NESTING });
      }
      return request;
    },
    toSuccessResult: inner.toSuccessResult,
    toErrorResult(error) {
      if (error instanceof Refusal) {
        log().warn({ code: error.code, status: error.status }, 'request refused');
        const extensions = { code: error.code, ...error.extensions };
        return json(error.status, { errors: [{ message: error.message, extensions }] });
      }
      log().error({ err: error }, 'request failed');
      return json(500, {
        errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The handlers.

const isHttpApiEvent = (event: AnyEvent): event is APIGatewayProxyEventV2 =>
  (event as Partial<APIGatewayProxyEventV2>).version === '2.0';

/** API Gateway's headers with lowercased names (HTTP APIs lowercase them already, REST APIs keep the client's case),
 * as Node gives them to the HTTP app. */
function headersOf(event: AnyEvent): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return headers;
}

const requestIdOf = (event: AnyEvent) => event.requestContext.requestId;
const clientAddressOf = (event: AnyEvent) =>
  isHttpApiEvent(event) ? event.requestContext.http.sourceIp : event.requestContext.identity.sourceIp;

async function createServer(current: Container, api: Api): Promise<{ apollo: ApolloServer<Context>; invoke: Invoke }> {
  const { config, logger, runtime, httpContext } = current;
  const apollo = await createGraphQLServer({ schema: createSchema(), config, redis: runtime.redis });
  const options = {
    // The request logger is bound to this invocation's ids in `handle` below.
    context: ({ event }: { event: AnyEvent }) =>
      httpContext({
        headers: headersOf(event),
        clientAddress: clientAddressOf(event),
        logger: requestLogger.getStore() ?? logger,
      }),
  };
  // startServerAndCreateLambdaHandler starts the server (in the background; requests wait for it): never call
  // apollo.start() here as well, and build at most one handler per server.
  const server = apollo as unknown as CommonJsApolloServer<Context>;
  const invoke =
    api === 'httpApi'
      ? startServerAndCreateLambdaHandler(
          server,
          guarded(handlers.createAPIGatewayProxyEventV2RequestHandler(), config, logger),
          options,
        )
      : startServerAndCreateLambdaHandler(
          server,
          guarded(handlers.createAPIGatewayProxyEventRequestHandler(), config, logger),
          options,
        );
  return { apollo, invoke: invoke as Invoke };
}

function serverFor(current: Container, api: Api) {
  let server = current.servers.get(api);
  if (!server) {
    server = createServer(current, api).catch((error: unknown) => {
      current.servers.delete(api);
      throw error;
    });
    current.servers.set(api, server);
  }
  return server;
}

async function handle(api: Api, event: AnyEvent, context: LambdaContext): Promise<AnyResult> {
  const current = await openContainer();
  const { invoke } = await serverFor(current, api);
  const requestId = requestIdOf(event);
  const logger = current.logger.child({ requestId, awsRequestId: context.awsRequestId });
  const result = await requestLogger.run(logger, () => invoke(event, context));
  result.headers = {
    ...result.headers,
    'x-request-id': requestId,
    'x-content-type-options': 'nosniff',
    ...(current.config.NODE_ENV === 'production' && {
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    }),
  };
  return result;
}

/** For an API Gateway HTTP API (payload format 2.0) or a Lambda function URL. */
export const handler = (event: APIGatewayProxyEventV2, context: LambdaContext) =>
  handle('httpApi', event, context) as Promise<APIGatewayProxyStructuredResultV2>;

/** For an API Gateway REST API (Lambda proxy integration, payload format 1.0). */
export const restApiHandler = (event: APIGatewayProxyEvent, context: LambdaContext) =>
  handle('restApi', event, context) as Promise<APIGatewayProxyResult>;

/** A schedule's target (EventBridge, every minute or so): one pass of what the HTTP app's loops do, sending queued
 * emails, delivering outbox events, and recovering stalled checkouts and expired reservations, within the invocation's time. Both are safe to run from
 * several places at once (SKIP LOCKED, row locks). */
export async function maintenanceHandler(
  _event: unknown,
  context: Pick<LambdaContext, 'getRemainingTimeInMillis' | 'awsRequestId'>,
): Promise<{
  emailsSent: number;
  eventsDelivered: number;
  reservationsReleased: number;
  recovered: RecoveryPass;
}> {
  const current = await openContainer();
  const { config, runtime } = current;
  const logger = current.logger.child({ awsRequestId: context.awsRequestId });
  if (!current.mailer) {
    const transport = config.SMTP_URL ? smtpTransport(config.SMTP_URL, config.MAIL_FROM) : logTransport(logger);
    // Only its `flush` is wanted: the timer it starts is stopped at once.
    current.mailer = startMailer(runtime.database.prisma, transport, logger, config.MAILER_INTERVAL_MS);
    await current.mailer.stop();
  }
  let emailsSent = 0;
  for (let sent = -1; sent !== 0 && context.getRemainingTimeInMillis() > 10_000;) {
    sent = await current.mailer.flush();
    emailsSent += sent;
  }
  const recovered = await runtime.recovery.pass();
  const eventsDelivered = await runtime.relay.flush();
  logger.info({ emailsSent, eventsDelivered, ...recovered }, 'maintenance pass done');
  return { emailsSent, eventsDelivered, reservationsReleased: recovered.reservations, recovered };
}

/** Stops the servers and closes the runtime (database, Redis, job queue): for tests, and for a shutdown signal. */
export async function closeLambdaRuntime(): Promise<void> {
  const closing = container;
  container = null;
  const current = await closing?.catch(() => null);
  if (!current) return;
  try {
    await Promise.all(
      [...current.servers.values()].map(async (server) => (await server.catch(() => null))?.apollo.stop()),
    );
  } finally {
    await current.runtime.close();
  }
}

// Lambda sends SIGTERM before it retires a container (when an extension is registered): close the pool cleanly.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
  process.once('SIGTERM', () => {
    closeLambdaRuntime().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
