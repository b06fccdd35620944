// OpenTelemetry tracing (docs/observability.md): a server span per HTTP request, an operation span per GraphQL
// operation, a span per resolver that reached the database, and Prisma's spans for its operations and their SQL.
//
// Nothing here patches modules (the app is ESM, run by tsx and by vitest's module runner, where require/import hooks
// do not reliably apply): the spans come from express middleware, an Apollo plugin, resolvers wrapped when the
// schema is built, and Prisma's own tracing, which its client reads from a global that PrismaInstrumentation sets.
// With tracing off none of it is installed, so requests pay nothing for it.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  context,
  diag,
  DiagLogLevel,
  propagation,
  trace,
  type Attributes,
  type Context as OtelContext,
  type Link,
  type SpanKind,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { PrismaInstrumentation, registerInstrumentations } from '@prisma/instrumentation';
import type { RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { graphqlTracing } from './tracingGraphQL.js';
import { httpServerSpans, operationSpans } from './tracingHttp.js';
import { keyValuePairs, tracesEndpoint, tracesExporter, type TracingConfig } from './tracingConfig.js';

export const TRACER_NAME = 'agora';

export interface Tracing {
  /** Express middleware, first in line: each request's server span (probes aside), active while it is handled. */
  httpSpans: RequestHandler;
  /** Express middleware on /graphql after the body is parsed: the operation's span, active while Apollo runs it. */
  operationSpans: RequestHandler;
  /** Apollo plugin: names the operation span after the operation and records its attributes and errors. */
  plugin: ApolloServerPlugin<BaseContext>;
  /** Wraps `schema`'s own resolvers (those of `resolverMaps`) so that database work under them nests in a span of
   * theirs. Returns the same schema. */
  traceResolvers(schema: GraphQLSchema, resolverMaps: readonly object[]): GraphQLSchema;
  /** Exports what is buffered, then takes tracing down (the global provider, context manager and Prisma's hook). */
  shutdown(): Promise<void>;
}

/** OTEL_TRACES_SAMPLER as the SDK reads it, with our parent-based default. */
function configuredSampler(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG ?? 1);
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Prisma work outside any request (start-up seeding, the mailer's polling, the reservation sweeper, jobs) would
 * start a trace of its own every few seconds: it is dropped, so traces are requests. */
class RequestsOnlySampler implements Sampler {
  constructor(private readonly sampler: Sampler) {}

  shouldSample(
    parent: OtelContext,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (spanName.startsWith('prisma:') && !trace.getSpanContext(parent))
      return { decision: SamplingDecision.NOT_RECORD };
    return this.sampler.shouldSample(parent, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `RequestsOnly{${this.sampler.toString()}}`;
  }
}

/** The SDK's own complaints (an unreachable collector, mostly), into our log at most every 30 s. */
function diagnosticsTo(logger: Logger) {
  let last = 0;
  const report =
    (level: 'warn' | 'error') =>
    (message: string, ...args: unknown[]) => {
      if (Date.now() - last < 30_000) return;
      last = Date.now();
      logger[level](
        { otel: [message, ...args.map(String)].join(' ') },
        'tracing: the OpenTelemetry SDK reported a problem (repeats are not logged for 30 s)',
      );
    };
  const ignore = () => {};
  diag.setLogger(
    { error: report('error'), warn: report('warn'), info: ignore, debug: ignore, verbose: ignore },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** A URL fit for a log line: no user or password. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

let running = false;

/** Tracing as configured (null when off), or into `spanProcessors` when given (tests). One per process: the
 * provider, the context manager and Prisma's hook are process-wide. */
export function startTracing(config: Config, logger: Logger, spanProcessors?: SpanProcessor[]): Tracing | null {
  const exporter = tracesExporter(config);
  if (!spanProcessors && exporter === 'none') return null;
  if (running) throw new Error('tracing is already running in this process');
  running = true;

  const processors = spanProcessors ?? [
    exporter === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(
          new OTLPTraceExporter({
            url: tracesEndpoint(config),
            headers: keyValuePairs(config.OTEL_EXPORTER_OTLP_HEADERS),
          }),
          { exportTimeoutMillis: 5_000 },
        ),
  ];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      ...keyValuePairs(config.OTEL_RESOURCE_ATTRIBUTES),
      [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME,
      [ATTR_SERVICE_VERSION]: packageJson.version,
      'deployment.environment.name': config.NODE_ENV,
    }),
    sampler: new RequestsOnlySampler(configuredSampler(config)),
    spanProcessors: processors,
  });
  diagnosticsTo(logger);
  // The AsyncLocalStorage context manager and the W3C trace context propagator, set globally.
  provider.register();
  const unregisterPrisma = registerInstrumentations({
    tracerProvider: provider,
    // Serializing a query's arguments: a span per operation that tells nothing.
    instrumentations: [new PrismaInstrumentation({ ignoreSpanTypes: ['prisma:client:serialize'] })],
  });
  const tracer = provider.getTracer(TRACER_NAME, packageJson.version);
  const graphql = graphqlTracing(tracer);
  if (!spanProcessors) {
    const endpoint = exporter === 'otlp' ? withoutCredentials(tracesEndpoint(config)) : undefined;
    logger.info({ exporter, endpoint }, 'tracing on');
  }

  return {
    httpSpans: httpServerSpans(tracer),
    operationSpans: operationSpans(tracer, graphql.claimable),
    plugin: graphql.plugin,
    traceResolvers: graphql.traceResolvers,
    async shutdown() {
      try {
        await provider.shutdown();
      } catch (error) {
        logger.warn({ err: error }, 'tracing: spans not exported before shutdown');
      } finally {
        unregisterPrisma();
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
        running = false;
      }
    },
  };
}
