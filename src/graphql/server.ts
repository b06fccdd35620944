// The GraphQL server every transport shares (HTTP, WebSocket and the Lambda handler): schema, limits, cost and
// throttling, persisted operations, error masking and the operation plugins. Transports add their own plugins.
import type { IncomingHttpHeaders } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ErrorsAreMissesCache, InMemoryLRUCache, PrefixingKeyValueCache } from '@apollo/utils.keyvaluecache';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import { claimsFromHeaders, liveViewerOf } from '../auth/requestViewer.js';
import { cacheControl } from '../cache/cachePolicy.js';
import { memoryCatalogVersion, redisCatalogVersion } from '../cache/catalogVersion.js';
import { RedisKeyValueCache } from '../cache/redisKeyValueCache.js';
import { responseCache } from '../cache/responseCache.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { auditStaffMutations } from '../modules/audit/plugin.js';
import { withOperationMetrics, type OperationMetrics } from '../observability/metricsPlugin.js';
import type { Redis } from '../redis.js';
import { compiledExecution } from './compiledExecution.js';
import { createContext, type AppServices, type Context } from './context.js';
import { formatError } from './errors.js';
import { operationLogging } from './operationLogging.js';
import { CostModel } from './protection/cost.js';
import { executionTimeLimit } from './protection/executionTimeout.js';
import { memoryBuckets, redisBuckets } from './protection/leakyBucket.js';
import { documentLimitRules, limitRefusalsAlone, MAX_VALIDATION_ERRORS } from './protection/limits.js';
import { queryCost } from './protection/queryCost.js';
import { loadTrustedDocuments, onlyTrustedDocuments, PersistedQueryStore } from './protection/trustedDocuments.js';
import { sessionCheck } from './sessionCheck.js';
import { subscriptionAdmission } from './subscriptionAdmission.js';

export interface GraphQLServerOptions {
  schema: GraphQLSchema;
  config: Config;
  redis: Redis | null;
  /** The transport's own plugins (draining its server, for instance). */
  plugins?: ApolloServerPlugin<Context>[];
  /** Prometheus metrics of every operation (src/observability/metricsPlugin.ts); none when omitted. */
  metrics?: OperationMetrics;
}

function documentLimits(config: Config): ValidationRule[] {
  return documentLimitRules({
    depth: config.MAX_QUERY_DEPTH,
    aliases: config.MAX_ALIASES,
    directives: config.MAX_DIRECTIVES,
    length: config.MAX_QUERY_LENGTH,
    mutations: config.MAX_MUTATIONS,
  });
}

export async function createGraphQLServer({
  schema,
  config,
  redis,
  plugins = [],
  metrics,
}: GraphQLServerOptions): Promise<ApolloServer<Context>> {
  const production = config.NODE_ENV === 'production';
  const trusted = config.TRUSTED_DOCUMENTS_MANIFEST
    ? await loadTrustedDocuments(config.TRUSTED_DOCUMENTS_MANIFEST)
    : new Map<string, string>();
  const registeredQueries = redis
    ? new ErrorsAreMissesCache(new RedisKeyValueCache(redis, `${config.REDIS_KEY_PREFIX}apq:`))
    : new InMemoryLRUCache<string>();
  return new ApolloServer<Context>({
    gateway: compiledExecution(schema),
    introspection: config.INTROSPECTION,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false, // the transport owns shutdown
    csrfPrevention: true,
    allowBatchedHttpRequests: config.MAX_BATCH_SIZE > 0,
    parseOptions: { maxTokens: config.MAX_TOKENS },
    validationRules: documentLimits(config),
    validationOptions: { maxErrors: MAX_VALIDATION_ERRORS },
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
      subscriptionAdmission,
      limitRefusalsAlone,
      // The metrics report the cost this plugin sends in extensions.cost, so they wrap it.
      withOperationMetrics(
        metrics,
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
      ),
      executionTimeLimit(config.OPERATION_TIMEOUT_MS),
      // The SDL's @cacheControl hints, worked out once per document instead of by Apollo's per-field hook.
      ApolloServerPluginCacheControlDisabled(),
      cacheControl(schema),
      ...(config.RESPONSE_CACHE ? sharedResponseCache(config, redis) : []),
      ...(config.TRUSTED_DOCUMENTS === 'strict'
        ? [onlyTrustedDocuments(trusted, config.TRUSTED_DOCUMENTS_EXEMPT_ROLES)]
        : []),
      ...plugins,
      operationLogging,
      auditStaffMutations,
      production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault(),
      ...(production ? [ApolloServerPluginDisableSuggestions()] : []),
    ],
  });
}

function sharedResponseCache(config: Config, redis: Redis | null): ApolloServerPlugin<Context>[] {
  return redis
    ? responseCache(
        new ErrorsAreMissesCache(new RedisKeyValueCache(redis, `${config.REDIS_KEY_PREFIX}responses:`)),
        redisCatalogVersion(redis, `${config.REDIS_KEY_PREFIX}catalog-version`),
      )
    : responseCache(new InMemoryLRUCache<string>(), memoryCatalogVersion());
}

/** The context of one HTTP request (any transport): the token's signature is checked now, its session only once the
 * operation has passed every limit. */
export function httpContextFactory(services: AppServices) {
  return async (request: { headers: IncomingHttpHeaders; clientAddress: string; logger: Logger }) => {
    const claims = await claimsFromHeaders(request.headers, services.accessTokens);
    return createContext(services, {
      findViewer: () => liveViewerOf(claims, (verified) => services.sessions.viewerFor(verified)),
      clientAddress: request.clientAddress,
      logger: request.logger,
    });
  };
}
