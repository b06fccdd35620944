// The application's logger: JSON lines (pino), credentials redacted everywhere, email addresses masked in production,
// and the active trace's ids on every line when tracing is on. docs/observability.md lists what is redacted.
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.js';
import { tracesExporter, type TracingConfig } from './observability/tracingConfig.js';

export type { Logger };

export const REDACTED = '[Redacted]';

/** Keys holding credentials, redacted as a line's own keys and inside the objects below. */
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'resetToken',
  'paymentToken',
  'cardToken',
  'secret',
  'apiKey',
];

/** Objects a line may carry that hold what a client sent (`{ input: { password } }`). pino's wildcards (`*.password`)
 * would cover any object but cost about a microsecond per path on every line; a named path costs nothing on the lines
 * without that key. */
const CONTAINERS = [
  'input',
  'variables',
  'args',
  'body',
  'data',
  'params',
  'payload',
  'credentials',
  'account',
  'user',
];

/** Request headers with credentials: never logged (see httpLogSerializers), and redacted should they be. */
const HEADER_PATHS = ['req.headers.authorization', 'req.headers.cookie'];

/** Error text can quote values (a Prisma validation error prints its arguments; a PostgreSQL error's detail, under
 * Prisma's `meta`, the failing row): scrubbed of credentials, and in production of personal data. */
const ERROR_PATHS = ['err.message', 'err.stack', 'err.meta'];

const SECRET_KEY_SET = new Set(SECRET_KEYS);

/** Where email addresses appear in log lines: an `email` key (a string, or the mail log transport's email). */
const EMAIL_PATHS = ['email', ...CONTAINERS.flatMap((container) => [`${container}.email`, `${container}.to`])];

const EMAIL_ADDRESS = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]+/g;
const ARGON2_HASH = /\$argon2(?:id|i|d)\$[\w$=,+/-]+/g;
const BEARER = /\b(Bearer|Basic)\s+[\w.~+/=-]+/gi;

/** "ada@example.com" becomes "a***@example.com": the domain stays useful, the person does not show. */
export function maskEmails(text: string): string {
  return text.replace(EMAIL_ADDRESS, '$1***@$2');
}

function scrubSecrets(text: string): string {
  return text.replace(JWT, REDACTED).replace(ARGON2_HASH, REDACTED).replace(BEARER, `$1 ${REDACTED}`);
}

function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}

/** An error's message, stack or `meta` (Prisma's), copied without credentials and, in production, without email
 * addresses and PostgreSQL's `detail` (which quotes the rows and values involved). */
function scrubError(value: unknown, production: boolean, depth = 0): unknown {
  if (typeof value === 'string') return production ? maskEmails(scrubSecrets(value)) : scrubSecrets(value);
  if (!value || typeof value !== 'object' || depth > 5) return value;
  if (Array.isArray(value)) return value.map((item) => scrubError(item, production, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] =
      SECRET_KEY_SET.has(key) || (production && key === 'detail') ? REDACTED : scrubError(item, production, depth + 1);
  }
  return copy;
}

/** An `email` value: an address is masked; the mail log transport's email keeps its subject only, since its body
 * holds links with one-time tokens (password resets, invitations). */
function censorEmail(value: unknown): unknown {
  if (typeof value === 'string') return maskEmails(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const email = value as Record<string, unknown>;
    return {
      ...email,
      ...(typeof email.to === 'string' && { to: maskEmails(email.to) }),
      ...('body' in email && { body: REDACTED }),
      ...('html' in email && { html: REDACTED }),
    };
  }
  return value;
}

/** pino calls this for every redacted path it finds: most values are replaced; a few are rewritten instead. */
function censor(production: boolean) {
  return (value: unknown, path: string[]): unknown => {
    const key = path.at(-1);
    const parent = path.at(-2);
    if (parent === 'err' && (key === 'message' || key === 'stack' || key === 'meta')) {
      return scrubError(value, production);
    }
    if (key === 'email' || key === 'to') return censorEmail(value);
    return REDACTED;
  };
}

/** The paths pino redacts: credentials always; email addresses in production only, where a developer's own test
 * addresses and reset links (the mail log transport without SMTP_URL) stop being printable. */
export function redactPaths(production: boolean): string[] {
  return [
    ...SECRET_KEYS,
    ...CONTAINERS.flatMap((container) => SECRET_KEYS.map((key) => `${container}.${key}`)),
    ...SECRET_KEYS.map((key) => `variables.input.${key}`),
    ...HEADER_PATHS,
    ...ERROR_PATHS,
    ...(production ? EMAIL_PATHS : []),
  ];
}

/** Request headers worth a log line. The rest stay out: credentials (authorization, cookies, API keys), a referer's
 * query string, and bulk. */
const LOGGED_HEADERS = [
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'accept',
  'origin',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-request-id',
  'traceparent',
  'apollographql-client-name',
  'apollographql-client-version',
  'x-apollo-operation-name',
];

interface SerializedRequest {
  id: unknown;
  method: string;
  url: string;
  headers: Record<string, unknown>;
  remoteAddress?: string;
  remotePort?: number;
}

/** pino-http's serializers: a request is logged without its query string (a GraphQL GET carries the operation and
 * its variables there: an email, a token) and with the headers above only. */
export const httpLogSerializers = {
  req(req: SerializedRequest) {
    const headers: Record<string, unknown> = {};
    for (const name of LOGGED_HEADERS) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
    return {
      id: req.id,
      method: req.method,
      url: withoutQuery(req.url),
      headers,
      remoteAddress: req.remoteAddress,
      remotePort: req.remotePort,
    };
  },
};

/** The active span's ids, as OpenTelemetry's log data model names them; a line outside any span gets none. */
function traceIds(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId, trace_flags: `0${span.traceFlags.toString(16)}` };
}

export interface CreateLoggerOptions {
  /** Where lines go (default: stdout). */
  destination?: DestinationStream;
  /** trace_id and span_id on lines written inside a span; by default when tracing is configured, since the lookup
   * costs a little on every line. */
  traceIds?: boolean;
}

export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'NODE_ENV'> & TracingConfig>,
  options: CreateLoggerOptions = {},
): Logger {
  const production = config.NODE_ENV === 'production';
  const withTraceIds = options.traceIds ?? tracesExporter(config) !== 'none';
  const settings: LoggerOptions = {
    level: config.LOG_LEVEL,
    base: { service: 'agora' },
    redact: { paths: redactPaths(production), censor: censor(production) },
    ...(withTraceIds && { mixin: traceIds }),
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
