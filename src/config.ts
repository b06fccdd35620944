// Every environment variable the server reads, parsed and validated in one place.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalUrl = z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional());

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL to use; when unset, an embedded PostgreSQL (PGlite) keeps its data under DATA_DIR. */
  DATABASE_URL: optionalUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
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
  RESERVATION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(60_000),
  /** Shared secret the payment processor signs webhook deliveries with (HMAC-SHA256). */
  PAYMENT_WEBHOOK_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'at least 32 characters').optional()),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
});

export type Config = Omit<z.infer<typeof schema>, 'JWT_SECRET' | 'PAYMENT_WEBHOOK_SECRET'> & {
  JWT_SECRET: string;
  PAYMENT_WEBHOOK_SECRET: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  const problems = [
    !config.JWT_SECRET && config.NODE_ENV === 'production' && 'JWT_SECRET: required in production',
    !config.PAYMENT_WEBHOOK_SECRET &&
      config.NODE_ENV === 'production' &&
      'PAYMENT_WEBHOOK_SECRET: required in production',
    config.ADMIN_EMAIL && !config.ADMIN_PASSWORD && 'ADMIN_PASSWORD: required with ADMIN_EMAIL',
    config.ADMIN_PASSWORD && !config.ADMIN_EMAIL && 'ADMIN_EMAIL: required with ADMIN_PASSWORD',
    config.JWT_PREVIOUS_KEYS.some(({ kid }) => kid === config.JWT_KEY_ID) &&
      'JWT_PREVIOUS_KEYS: must not reuse the current JWT_KEY_ID',
  ].filter(Boolean);
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  // Outside production a random secret per process keeps development free of hard-coded keys.
  return {
    ...config,
    JWT_SECRET: config.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    PAYMENT_WEBHOOK_SECRET: config.PAYMENT_WEBHOOK_SECRET ?? randomBytes(32).toString('base64url'),
  };
}
