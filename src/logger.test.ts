import { Writable } from 'node:stream';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { stdSerializers } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, httpLogSerializers, maskEmails, REDACTED } from './logger.js';
import { logTransport } from './mail/mailer.js';

/** A parsed log line. */
type Line = Record<string, unknown> & { err?: { message: string; stack: string; type: string } };

/** A logger writing into an array of parsed lines. */
function capture(nodeEnv: 'development' | 'production', traceIds?: boolean) {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      done();
    },
  });
  return { lines, logger: createLogger({ LOG_LEVEL: 'info', NODE_ENV: nodeEnv }, { destination, traceIds }) };
}

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const ARGON2 = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

describe('credentials', () => {
  it('are redacted as a line’s own keys and inside the objects that carry input', () => {
    const { lines, logger } = capture('development');
    logger.info(
      {
        password: 'hunter2-hunter2',
        token: 'reset-token',
        accessToken: JWT,
        refreshToken: 'refresh-1',
        input: { email: 'ada@example.com', password: 'p1', newPassword: 'p2', currentPassword: 'p3' },
        variables: { input: { paymentToken: 'tok_visa', cardToken: 'card_1' } },
        args: { token: 'invite' },
        kept: 'visible',
      },
      'attempt',
    );
    expect(lines[0]).toMatchObject({
      password: REDACTED,
      token: REDACTED,
      accessToken: REDACTED,
      refreshToken: REDACTED,
      input: { email: 'ada@example.com', password: REDACTED, newPassword: REDACTED, currentPassword: REDACTED },
      variables: { input: { paymentToken: REDACTED, cardToken: REDACTED } },
      args: { token: REDACTED },
      kept: 'visible',
    });
  });

  it('are redacted from request headers bound to a child logger', () => {
    const { lines, logger } = capture('development');
    logger
      .child({ req: { id: 'r1', headers: { authorization: `Bearer ${JWT}`, cookie: 'sid=1', host: 'api' } } })
      .info('request');
    expect(lines[0]!.req).toEqual({
      id: 'r1',
      headers: { authorization: REDACTED, cookie: REDACTED, host: 'api' },
    });
  });

  it('are scrubbed from error messages and stacks: tokens, bearer credentials, password hashes', () => {
    const { lines, logger } = capture('development');
    const error = new Error(`invalid invocation: { token: "${JWT}", passwordHash: "${ARGON2}" } Bearer abc.def`);
    logger.error({ err: error }, 'resolver failed');
    const logged = JSON.stringify(lines[0]);
    expect(logged).not.toContain(JWT);
    expect(logged).not.toContain(ARGON2);
    expect(logged).not.toContain('abc.def');
    expect(lines[0]!.err!.message).toBe(
      `invalid invocation: { token: "${REDACTED}", passwordHash: "${REDACTED}" } Bearer ${REDACTED}`,
    );
    expect(lines[0]!.err!.stack).toContain(`Bearer ${REDACTED}`);
    expect(lines[0]!.err!.type).toBe('Error');
  });
});

describe('email addresses', () => {
  it('are masked in production', () => {
    expect(maskEmails('to ada.lovelace@example.com and b@x.org')).toBe('to a***@example.com and b***@x.org');
    const { lines, logger } = capture('production');
    logger.info({ email: 'ada@example.com', input: { email: 'grace@example.org' }, account: { to: 'x@y.io' } }, 'x');
    expect(lines[0]).toMatchObject({
      email: 'a***@example.com',
      input: { email: 'g***@example.org' },
      account: { to: 'x***@y.io' },
    });
    logger.error({ err: new Error('Unique constraint failed for ada@example.com') }, 'failed');
    expect(lines[1]!.err!.message).toBe('Unique constraint failed for a***@example.com');
  });

  it('are taken, with credentials, out of the PostgreSQL error details that Prisma errors carry', () => {
    const failure = () =>
      Object.assign(new Error('Invalid `prisma.account.create()` invocation'), {
        code: 'P2010',
        meta: {
          driverAdapterError: {
            cause: {
              kind: 'postgres',
              message: 'new row for relation "account" violates check constraint "account_email_check"',
              detail: `Failing row contains (0190, ada@example.com, ${ARGON2}).`,
              note: `reported for ada@example.com, token ${JWT}`,
            },
          },
          token: 'tok',
        },
      });
    const production = capture('production');
    production.logger.error({ err: failure() }, 'resolver failed');
    expect((production.lines[0]!.err as unknown as { meta: unknown }).meta).toEqual({
      driverAdapterError: {
        cause: {
          kind: 'postgres',
          message: 'new row for relation "account" violates check constraint "account_email_check"',
          detail: REDACTED,
          note: `reported for a***@example.com, token ${REDACTED}`,
        },
      },
      token: REDACTED,
    });
    const development = capture('development');
    development.logger.error({ err: failure() }, 'resolver failed');
    const logged = JSON.stringify(development.lines[0]);
    expect(logged).toContain('Failing row contains (0190, ada@example.com, [Redacted]).');
    expect(logged).not.toContain(ARGON2);
    expect(logged).not.toContain(JWT);
  });

  it('are left alone outside production', () => {
    const { lines, logger } = capture('development');
    logger.info({ email: 'ada@example.com' }, 'x');
    expect(lines[0]!.email).toBe('ada@example.com');
  });

  it('leave the mail log transport’s lines in production without the address or the email’s token', async () => {
    const { lines, logger } = capture('production');
    const body = 'Hello Ada,\n\nuse this token with the passwordReset mutation:\n\nprt_9f8e7d6c5b4a\n';
    await logTransport(logger).send({ to: 'ada@example.com', subject: 'Reset your password', body });
    expect(lines[0]!.email).toEqual({ to: 'a***@example.com', subject: 'Reset your password', body: REDACTED });
    expect(JSON.stringify(lines)).not.toMatch(/ada@example\.com|prt_9f8e7d6c5b4a/);

    // A developer without SMTP reads the email in full.
    const development = capture('development');
    await logTransport(development.logger).send({ to: 'ada@example.com', subject: 'Reset your password', body });
    expect(development.lines[0]!.email).toEqual({ to: 'ada@example.com', subject: 'Reset your password', body });
  });
});

describe('pino-http’s request serializer', () => {
  it('drops the query string and keeps only harmless headers', () => {
    const raw = {
      method: 'GET',
      url: '/graphql?query=%7B%20x%20%7D&variables=%7B%22email%22%3A%22ada%40example.com%22%7D',
      headers: {
        host: 'api.example',
        authorization: `Bearer ${JWT}`,
        cookie: 'sid=1',
        'x-api-key': 'key',
        referer: 'https://shop.example/orders?email=ada@example.com',
        'user-agent': 'test',
      },
      socket: { remoteAddress: '10.0.0.1', remotePort: 1234 },
    };
    const serialized = httpLogSerializers.req(stdSerializers.req(raw as never));
    expect(serialized).toEqual({
      id: undefined,
      method: 'GET',
      url: '/graphql',
      headers: { host: 'api.example', 'user-agent': 'test' },
      remoteAddress: '10.0.0.1',
      remotePort: 1234,
    });
  });
});

describe('trace ids', () => {
  // The context manager that tracing registers (AsyncLocalStorage).
  const provider = new NodeTracerProvider();
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const spanContext = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  };
  const inSpan = (write: () => void) => context.with(trace.setSpanContext(context.active(), spanContext), write);

  it('are on lines written inside a span, and only there', () => {
    const { lines, logger } = capture('development', true);
    inSpan(() => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: '01' });
    expect(lines[1]).not.toHaveProperty('trace_id');
    expect(lines[1]).not.toHaveProperty('span_id');
  });

  it('are left out when tracing is not configured', () => {
    const { lines, logger } = capture('development');
    inSpan(() => logger.info('inside'));
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it('follow the configuration by default', () => {
    const lines: Line[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Line);
        done();
      },
    });
    const logger = createLogger(
      { LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
      { destination },
    );
    inSpan(() => logger.info('inside'));
    expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId });
  });
});
