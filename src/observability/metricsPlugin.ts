// Prometheus metrics of every GraphQL operation over HTTP: its duration by operation, the error codes sent to the
// client, its query cost, and whether the response cache answered it. Subscriptions (graphql-ws) are not counted.
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse, GraphQLRequestListener } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Context } from '../graphql/context.js';

/**
 * Label values that clients choose (operation names), bounded: the first `limit` distinct values get series of their
 * own, every later one shares `overflow`, so a client inventing names cannot grow the metrics without end.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();

  constructor(
    readonly limit: number,
    readonly overflow = 'other',
  ) {}

  /** `value` itself while there is room for it or it has a series already; `overflow` once the limit is reached. */
  of(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.limit) return this.overflow;
    this.#seen.add(value);
    return value;
  }

  has(value: string): boolean {
    return this.#seen.has(value);
  }
}

/** Operation names longer than this share the `other` series. */
const MAX_NAME_LENGTH = 100;
const ERROR_CODES_LIMIT = 50;

/** The `extensions.cost` the query cost plugin sends with each response. */
interface ReportedCost {
  requestedQueryCost?: number | null;
  actualQueryCost?: number | null;
}

export interface OperationMetricsOptions {
  /** Distinct operation names with series of their own; later ones are counted as `other`. */
  maxOperationNames?: number;
}

export class OperationMetrics {
  readonly #names: BoundedLabel;
  readonly #codes = new BoundedLabel(ERROR_CODES_LIMIT);
  readonly #duration: Histogram<'operation_name' | 'operation_type'>;
  readonly #errors: Counter<'code'>;
  readonly #cost: Histogram<'kind'>;
  readonly #cache: Counter<'result'>;

  constructor(registry: Registry, { maxOperationNames = 100 }: OperationMetricsOptions = {}) {
    const registers = [registry];
    this.#names = new BoundedLabel(maxOperationNames);
    this.#duration = new Histogram({
      name: 'graphql_operation_duration_seconds',
      help: 'Time from receiving a GraphQL operation to sending its response, by operation name and type.',
      labelNames: ['operation_name', 'operation_type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#errors = new Counter({
      name: 'graphql_errors_total',
      help: 'GraphQL errors sent to clients, by extensions.code as sent (after masking).',
      labelNames: ['code'],
      registers,
    });
    this.#cost = new Histogram({
      name: 'graphql_query_cost',
      help: 'Calculated cost of GraphQL operations: requested (before execution) and actual (after it).',
      labelNames: ['kind'],
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    });
    this.#cache = new Counter({
      name: 'graphql_response_cache_requests_total',
      help: 'Cacheable query operations answered from the response cache (hit) or executed (miss).',
      labelNames: ['result'],
      registers,
    });
  }

  /** Records one operation once its response is final: errors formatted, cost reported. */
  record(requestContext: GraphQLRequestContextWillSendResponse<Context>, seconds: number): void {
    const { operation, response, metrics, overallCachePolicy } = requestContext;
    this.#duration.observe(
      { operation_name: this.operationName(requestContext), operation_type: operation?.operation ?? 'unknown' },
      seconds,
    );
    const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
    for (const error of result.errors ?? []) {
      const code = error.extensions?.code;
      this.#errors.inc({ code: this.#codes.of(typeof code === 'string' ? code : 'UNKNOWN') });
    }
    const cost = result.extensions?.cost as ReportedCost | undefined;
    if (typeof cost?.requestedQueryCost === 'number')
      this.#cost.observe({ kind: 'requested' }, cost.requestedQueryCost);
    if (typeof cost?.actualQueryCost === 'number') this.#cost.observe({ kind: 'actual' }, cost.actualQueryCost);
    // The response cache plugin sets responseCacheHit for every query it looks up; a miss counts when the executed
    // response was cacheable, so hit / (hit + miss) is the hit ratio among responses the cache could have served.
    if (operation?.operation === OperationTypeNode.QUERY) {
      if (metrics.responseCacheHit === true) this.#cache.inc({ result: 'hit' });
      else if (metrics.responseCacheHit === false && overallCachePolicy.policyIfCacheable()) {
        this.#cache.inc({ result: 'miss' });
      }
    }
  }

  /** The operation's name, `anonymous` without one, `other` past the limit of distinct names. */
  operationName({ operation, operationName, request }: GraphQLRequestContextWillSendResponse<Context>): string {
    if (operation) {
      if (!operationName) return 'anonymous';
      return operationName.length <= MAX_NAME_LENGTH ? this.#names.of(operationName) : 'other';
    }
    // Refused before the operation was resolved (parse or validation errors): the requested name is whatever the
    // client sent, so only a name that has a series already keeps it.
    if (!request.operationName) return 'anonymous';
    return this.#names.has(request.operationName) ? request.operationName : 'other';
  }
}

/**
 * The query cost plugin with `metrics` around it: every operation is recorded after the cost plugin's own
 * willSendResponse, which writes `extensions.cost`. (Apollo runs the plugins' willSendResponse hooks concurrently, so
 * a plugin of its own would read the response before the cost plugin has finished with it.) Without `metrics`,
 * the cost plugin as it is.
 */
export function withOperationMetrics(
  metrics: OperationMetrics | undefined,
  costPlugin: ApolloServerPlugin<Context>,
): ApolloServerPlugin<Context> {
  if (!metrics) return costPlugin;
  return {
    ...costPlugin,
    async requestDidStart(requestContext) {
      const started = performance.now();
      const listener: GraphQLRequestListener<Context> = (await costPlugin.requestDidStart?.(requestContext)) ?? {};
      return {
        ...listener,
        async willSendResponse(responseContext) {
          try {
            await listener.willSendResponse?.(responseContext);
          } finally {
            metrics.record(responseContext, (performance.now() - started) / 1000);
          }
        },
      };
    },
  };
}
