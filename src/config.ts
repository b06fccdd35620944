// Every environment variable the server reads, parsed and validated in one place.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import {
  bucket,
  commaList,
  emptyAsUndefined,
  keyValueList,
  limit,
  optionalUrl,
  trustProxy,
  window,
} from './configValues.js';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL to use; when unset, an embedded PostgreSQL (PGlite) keeps its data under DATA_DIR. */
  DATABASE_URL: optionalUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Read replicas of DATABASE_URL (comma-separated): reads outside transactions go to one of them at random. */
  DATABASE_REPLICA_URLS: commaList.pipe(z.array(z.url({ protocol: /^postgres(ql)?$/ }))),
  /** Worker processes serving PORT together (node:cluster); "auto" starts one per CPU. */
  WORKERS: z.preprocess(
    emptyAsUndefined,
    z
      .union([z.literal('auto'), z.coerce.number().int().min(1).max(1024)])
      .default(1)
      .transform((value) => (value === 'auto' ? availableParallelism() : value)),
  ),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Seed the demo catalog into an empty database on start. */
  SEED_DEMO_CATALOG: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  SEED_PRODUCTS: z.coerce.number().int().min(0).max(100_000).default(300),
  /** ISO 4217 code of the store's currency; prices are stored in its minor units. */
  STORE_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
    .default('USD'),
  /** HS256 key that signs access tokens, under the key id JWT_KEY_ID. */
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'at least 32 characters').optional()),
  JWT_KEY_ID: z
    .string()
    .regex(/^[\w-]{1,32}$/, 'letters, digits, - and _')
    .default('k1'),
  /** Keys retired from signing but still accepted until their tokens expire: "kid:secret,kid:secret". */
  JWT_PREVIOUS_KEYS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const keys = value
        .split(',')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, Math.max(pair.indexOf(':'), 0)), pair.slice(pair.indexOf(':') + 1)]);
      if (keys.some(([kid, secret]) => !kid || !secret || secret.length < 32)) {
        ctx.addIssue({ code: 'custom', message: 'a list of kid:secret pairs, secrets of at least 32 characters' });
      }
      return keys.map(([kid, secret]) => ({ kid: kid!, secret: secret! }));
    }),
  JWT_ISSUER: z.string().min(1).default('agora'),
  JWT_AUDIENCE: z.string().min(1).default('agora-api'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Redis for state shared by every instance (login throttling); in-process when unset. */
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_KEY_PREFIX: z.string().default('agora:'),
  /** The first admin, created on start when no admin exists yet. Both or neither. */
  ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().optional()),
  ADMIN_PASSWORD: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** SMTP server for outgoing email (smtp://user:pass@host:587); without it, emails are logged. */
  SMTP_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^smtps?$/ }).optional()),
  MAIL_FROM: z.string().default('Agora <no-reply@agora.local>'),
  MAILER_INTERVAL_MS: z.coerce.number().int().min(50).default(2_000),
  /** How long checkout holds stock for a payment the processor has not confirmed yet. */
  CHECKOUT_RESERVATION_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(30),
  /** How long a checkout or payment operation may hold its idempotency key before a retry or the recovery worker
   * may take it over (a process that died holds it no longer than this). */
  CHECKOUT_LEASE_MS: z.coerce.number().int().min(100).default(15_000),
  /** How long a retry waits for the checkout holding its key before answering CONFLICT (keep it under
   * OPERATION_TIMEOUT_MS). */
  CHECKOUT_REPLAY_WAIT_MS: z.coerce.number().int().min(0).default(5_000),
  /** How often the recovery worker looks for stalled checkouts and payment operations and expired reservations. */
  RECOVERY_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  /** How often the outbox relay looks for events to deliver besides those this instance writes (it delivers those
   * at once): events of instances that died, for instance. */
  OUTBOX_RELAY_INTERVAL_MS: z.coerce.number().int().min(10).default(1_000),
  /** Shared secret the payment processor signs webhook deliveries with (HMAC-SHA256). */
  PAYMENT_WEBHOOK_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'at least 32 characters').optional()),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),

  // API protection: every limit is checked before execution; see docs/api-protection.md for the reasons.
  MAX_QUERY_DEPTH: limit(12),
  MAX_ALIASES: limit(30),
  MAX_DIRECTIVES: limit(50),
  MAX_TOKENS: limit(2_000),
  MAX_QUERY_LENGTH: limit(20_000),
  MAX_BODY_BYTES: limit(1_048_576),
  /** Operations allowed in one batched HTTP request; 0 turns batching off. */
  MAX_BATCH_SIZE: limit(0),
  MAX_MUTATIONS: limit(5),
  MAX_QUERY_COST: limit(1_000),
  /** Defaults to on outside production. */
  INTROSPECTION: z.enum(['true', 'false']).optional(),
  RATE_LIMIT_ANONYMOUS: bucket('1000/50'),
  RATE_LIMIT_CUSTOMER: bucket('1000/50'),
  RATE_LIMIT_STAFF: bucket('2000/100'),
  // Throttles on account and lookup operations (docs/api-protection.md, "Rate limiting"), each "points/seconds".
  /** Sign-ups per client address. */
  SIGN_UP_LIMIT: window('10/3600'),
  /** Password reset emails asked for one email address, and from one client address. */
  PASSWORD_RESET_LIMIT_PER_EMAIL: window('3/3600'),
  PASSWORD_RESET_LIMIT_PER_ADDRESS: window('20/3600'),
  /** orderByNumber per client address: a lookup takes 1 point, a miss 10. */
  ORDER_LOOKUP_LIMIT_PER_ADDRESS: window('100/600'),
  /** orderByNumber misses per order number, whoever guesses. */
  ORDER_LOOKUP_LIMIT_PER_ORDER: window('10/3600'),
  /** off: no trusted documents. allow: manifest operations run by hash, others too. strict: only manifest ones. */
  TRUSTED_DOCUMENTS: z.enum(['off', 'allow', 'strict']).default('off'),
  /** JSON file mapping each operation's SHA-256 to its text, produced by the front end's build. */
  TRUSTED_DOCUMENTS_MANIFEST: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Roles that may run operations outside the manifest in strict mode (staff tooling), e.g. "STAFF,ADMIN". */
  TRUSTED_DOCUMENTS_EXEMPT_ROLES: commaList.pipe(z.array(z.enum(['CUSTOMER', 'STAFF', 'ADMIN']))),
  /** Origins allowed to call the API from a browser; "*" for any. Defaults to "*" outside production, none in it. */
  CORS_ORIGINS: z.preprocess(emptyAsUndefined, commaList.optional()),
  TRUST_PROXY: trustProxy,
  /** PEM files; with both set the server speaks HTTPS. */
  TLS_CERT_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  TLS_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  OPERATION_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How long a client may take to send a request's headers, and the whole request, before the socket is closed. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** What graphql-ws runs: subscriptions only (queries and mutations belong on HTTP), or every operation. */
  WEBSOCKET_OPERATIONS: z.enum(['subscriptions', 'all']).default('subscriptions'),
  WEBSOCKET_MAX_SOCKETS_PER_CLIENT: limit(16),
  WEBSOCKET_MAX_SUBSCRIPTIONS_PER_SOCKET: limit(20),
  /** A socket without a signed-in viewer is closed after this long with no subscription running. */
  WEBSOCKET_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often the sessions behind open sockets are checked; a revoked or expired one closes its socket. */
  WEBSOCKET_SESSION_CHECK_MS: z.coerce.number().int().min(50).default(15_000),
  /** Serve public catalog responses from a cache (Redis when configured, in-process otherwise); see docs/caching.md. */
  RESPONSE_CACHE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** PostgreSQL statement_timeout for the API's connections; 0 turns it off. */
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers 404 in production and is
   * open elsewhere (docs/observability.md). */
  METRICS_TOKEN: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^\S{16,}$/, 'at least 16 characters, no spaces')
      .optional(),
  ),
  /** With WORKERS > 1: the primary serves every worker's metrics, summed, at GET /metrics on this port. */
  METRICS_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).optional()),

  // OpenTelemetry tracing, with the standard variables (docs/observability.md). Off unless an exporter is configured.
  OTEL_SDK_DISABLED: z
    .string()
    .default('false')
    .transform((v) => v.trim().toLowerCase() === 'true'),
  /** otlp (the default once an endpoint is set), console (spans on stdout, for development) or none. */
  OTEL_TRACES_EXPORTER: z.preprocess(emptyAsUndefined, z.enum(['otlp', 'console', 'none']).optional()),
  /** OTLP over HTTP (JSON): the collector's base URL, spans go to <url>/v1/traces; e.g. http://otel-collector:4318. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** The full URL for spans, when it is not <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** Headers the exporter sends, "name=value,name=value" (a vendor's API key, for instance). */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().regex(keyValueList, 'name=value pairs separated by commas').default(''),
  OTEL_SERVICE_NAME: z.string().min(1).default('agora'),
  /** More resource attributes, "key=value,key=value" (deployment.environment.name=production, for instance). */
  OTEL_RESOURCE_ATTRIBUTES: z.string().regex(keyValueList, 'key=value pairs separated by commas').default(''),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
  /** The share of traces the traceidratio samplers keep, from 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.preprocess(emptyAsUndefined, z.coerce.number().min(0).max(1).optional()),
});

export type Config = Omit<
  z.infer<typeof schema>,
  'JWT_SECRET' | 'PAYMENT_WEBHOOK_SECRET' | 'INTROSPECTION' | 'CORS_ORIGINS'
> & {
  JWT_SECRET: string;
  PAYMENT_WEBHOOK_SECRET: string;
  INTROSPECTION: boolean;
  CORS_ORIGINS: string[];
};

export type Bucket = Config['RATE_LIMIT_ANONYMOUS'];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const PLACEHOLDER = /change.?me|example|placeholder|default|secret|password|test/i;

/** Production secrets must be set and look generated: no placeholders, no long runs of a few characters. */
function secretProblem(name: string, value: string | undefined): string | false {
  if (!value) return `${name}: required in production`;
  if (PLACEHOLDER.test(value) || new Set(value).size < 12) {
    return `${name}: looks like a placeholder; generate one, e.g. with \`openssl rand -base64 48\``;
  }
  return false;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  const production = config.NODE_ENV === 'production';
  const problems = [
    production && secretProblem('JWT_SECRET', config.JWT_SECRET),
    production && secretProblem('PAYMENT_WEBHOOK_SECRET', config.PAYMENT_WEBHOOK_SECRET),
    config.ADMIN_EMAIL && !config.ADMIN_PASSWORD && 'ADMIN_PASSWORD: required with ADMIN_EMAIL',
    config.ADMIN_PASSWORD && !config.ADMIN_EMAIL && 'ADMIN_EMAIL: required with ADMIN_PASSWORD',
    config.JWT_PREVIOUS_KEYS.some(({ kid }) => kid === config.JWT_KEY_ID) &&
      'JWT_PREVIOUS_KEYS: must not reuse the current JWT_KEY_ID',
    config.TLS_CERT_FILE && !config.TLS_KEY_FILE && 'TLS_KEY_FILE: required with TLS_CERT_FILE',
    config.TLS_KEY_FILE && !config.TLS_CERT_FILE && 'TLS_CERT_FILE: required with TLS_KEY_FILE',
    config.WORKERS > 1 &&
      !config.DATABASE_URL &&
      'WORKERS: more than one worker needs DATABASE_URL (the embedded database belongs to a single process)',
    config.WORKERS > 1 &&
      !config.REDIS_URL &&
      'WORKERS: more than one worker needs REDIS_URL (rate limits, login throttles, subscriptions and jobs are shared through it)',
    config.DATABASE_REPLICA_URLS.length > 0 &&
      !config.DATABASE_URL &&
      'DATABASE_REPLICA_URLS: needs DATABASE_URL, the primary they replicate',
    Boolean(config.METRICS_PORT) &&
      config.METRICS_PORT === config.PORT &&
      'METRICS_PORT: must differ from PORT (the cluster primary listens on both)',
    config.TRUSTED_DOCUMENTS !== 'off' &&
      !config.TRUSTED_DOCUMENTS_MANIFEST &&
      'TRUSTED_DOCUMENTS_MANIFEST: required when TRUSTED_DOCUMENTS is allow or strict',
  ].filter(Boolean);
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  // Outside production a random secret per process keeps development free of hard-coded keys.
  return {
    ...config,
    INTROSPECTION: config.INTROSPECTION ? config.INTROSPECTION === 'true' : !production,
    CORS_ORIGINS: config.CORS_ORIGINS ?? (production ? [] : ['*']),
    JWT_SECRET: config.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    PAYMENT_WEBHOOK_SECRET: config.PAYMENT_WEBHOOK_SECRET ?? randomBytes(32).toString('base64url'),
  };
}
