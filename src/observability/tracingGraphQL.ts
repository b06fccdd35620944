// GraphQL spans: the operation's (named after it, with its type, document hash and error codes), and one per resolver
// of ours that reached the database, parent of Prisma's spans for that work.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type AttributeValue,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import {
  GraphQLObjectType,
  responsePathAsArray,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';

/** The name of an operation span until Apollo knows the operation (and if it never does: a document that does not
 * parse, a request refused before). */
export const UNNAMED_OPERATION = 'graphql';

/** A GraphQL error's code as clients see it (anything without one is masked as internal). */
const codeOf = (error: unknown): string => {
  const code = (error as Pick<GraphQLError, 'extensions'> | null)?.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
};

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * A resolver's span, started only if something asks for it: the tracer, when Prisma opens a span beneath it (its
 * parent's span context is read), or the logger, when a line is written beneath it. A resolver that only maps its
 * parent's fields, or reads what a DataLoader already has, costs an object and no span; one whose work reached the
 * database gets a span from its own start to its end. Batched work (a DataLoader's one query for a whole page) runs
 * beneath the resolver whose `load` started the batch, and so nests under that resolver's span.
 */
class ResolverSpan implements Span {
  private span: Span | undefined;
  /** The resolver's result, while it is pending. */
  private pending: PromiseLike<unknown> | undefined;
  private settled = false;
  private readonly startTime = performance.now();

  constructor(
    private readonly tracer: Tracer,
    private readonly operation: Span,
    private readonly info: GraphQLResolveInfo,
  ) {}

  /** The real span, started now if it was not yet; once the resolver has settled, its operation's. */
  private real(): Span {
    if (this.span) return this.span;
    if (this.settled) return this.operation;
    const { info } = this;
    const coordinate = `${info.parentType.name}.${info.fieldName}`;
    this.span = this.tracer.startSpan(
      `resolve ${coordinate}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: this.startTime,
        attributes: {
          'graphql.field.coordinate': coordinate,
          'graphql.field.name': info.fieldName,
          'graphql.field.path': responsePathAsArray(info.path).join('.'),
          'graphql.field.type': String(info.returnType),
        },
      },
      trace.setSpan(ROOT_CONTEXT, this.operation),
    );
    if (this.pending) this.endWith(this.pending);
    return this.span;
  }

  /** What the resolver returned: a value settles it now; a promise, when it settles. Only a started span waits for
   * it, so that the many resolvers without a span add no promise reaction of their own. */
  returned(result: unknown): void {
    if (!isPromiseLike(result)) {
      this.settle();
      return;
    }
    this.pending = result;
    if (this.span) this.endWith(result);
  }

  private endWith(result: PromiseLike<unknown>): void {
    result.then(
      () => this.settle(),
      (error: unknown) => this.settle(error),
    );
  }

  /** The resolver is done: ends the span if it was started. */
  settle(error?: unknown): void {
    this.settled = true;
    this.pending = undefined;
    if (!this.span) return;
    if (error !== undefined) {
      const exception = error instanceof Error ? error : { message: typeof error === 'string' ? error : 'thrown' };
      this.span.recordException(exception);
      // A refusal meant for the client (FORBIDDEN, BAD_USER_INPUT, ...) is recorded, not counted as a failure.
      if (codeOf(error) === 'INTERNAL_SERVER_ERROR') {
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
      }
    }
    this.span.end(performance.now());
  }

  spanContext(): SpanContext {
    return this.real().spanContext();
  }
  isRecording(): boolean {
    return true;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.real().setAttribute(key, value);
    return this;
  }
  setAttributes(attributes: Attributes): this {
    this.real().setAttributes(attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    this.real().addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.real().addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.real().addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.real().setStatus(status);
    return this;
  }
  updateName(name: string): this {
    this.real().updateName(name);
    return this;
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.real().recordException(exception, time);
  }
  end(): void {
    // Ended when the resolver's result settles (settle).
  }
}

export function graphqlTracing(tracer: Tracer) {
  /** Operation spans the /graphql middleware started, waiting for the plugin to take them. */
  const claimable = new WeakSet<Span>();
  /** Each traced operation's span, by its context value (Apollo gives each operation a context object of its own). */
  const operations = new WeakMap<object, Span>();

  const plugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart({ contextValue }) {
      const active = trace.getActiveSpan();
      // Transports without the middleware (and each operation of a batch) get a span from here, not active.
      const span =
        active && claimable.delete(active)
          ? active
          : tracer.startSpan(UNNAMED_OPERATION, { kind: SpanKind.INTERNAL }, context.active());
      if (span.isRecording()) operations.set(contextValue, span);
      return {
        async didResolveOperation({ operation, operationName, queryHash }) {
          if (!operation) return;
          const type = operation.operation;
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttributes({
            'graphql.operation.type': type,
            'graphql.document.hash': queryHash,
            ...(operationName && { 'graphql.operation.name': operationName }),
          });
        },
        async willSendResponse({ errors }) {
          if (errors?.length) {
            const codes = [...new Set(errors.map(codeOf))];
            span.setAttribute('graphql.error.codes', codes);
            const internal = errors.find((error) => codeOf(error) === 'INTERNAL_SERVER_ERROR');
            if (internal) {
              span.recordException(internal.originalError ?? internal);
              span.setStatus({ code: SpanStatusCode.ERROR, message: 'INTERNAL_SERVER_ERROR' });
            }
          }
          span.end();
        },
      };
    },
  };

  const traced =
    (resolve: GraphQLFieldResolver<unknown, object>): GraphQLFieldResolver<unknown, object> =>
    (source, args, contextValue, info) => {
      const operation = operations.get(contextValue);
      if (operation === undefined) return resolve(source, args, contextValue, info);
      const span = new ResolverSpan(tracer, operation, info);
      let result: unknown;
      try {
        result = context.with(
          trace.setSpan(context.active(), span),
          resolve,
          undefined,
          source,
          args,
          contextValue,
          info,
        );
      } catch (error) {
        span.settle(error);
        throw error;
      }
      span.returned(result);
      return result;
    };

  /** Wraps the resolvers of `resolverMaps` that take the context (the only way to the database: services and
   * loaders live there), on `schema` as built: outside the shield, so a rule's database work counts as its field's.
   * Left alone: graphql's default property reads, resolvers of the parent alone (`(product) => ...`), and
   * subscriptions. */
  function traceResolvers(schema: GraphQLSchema, resolverMaps: readonly object[]): GraphQLSchema {
    const subscription = schema.getSubscriptionType()?.name;
    for (const map of resolverMaps) {
      for (const [typeName, fields] of Object.entries(map)) {
        const type = schema.getType(typeName);
        if (!(type instanceof GraphQLObjectType) || typeName === subscription) continue;
        const schemaFields = type.getFields();
        for (const [fieldName, resolver] of Object.entries(fields as Record<string, unknown>)) {
          const field = schemaFields[fieldName];
          const own = typeof resolver === 'function' ? resolver : (resolver as { resolve?: unknown } | null)?.resolve;
          if (field?.resolve && typeof own === 'function' && own.length >= 3) {
            field.resolve = traced(field.resolve as GraphQLFieldResolver<unknown, object>);
          }
        }
      }
    }
    return schema;
  }

  return { claimable, plugin, traceResolvers };
}
