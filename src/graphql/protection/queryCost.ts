// Charges each operation its calculated cost against the client's leaky bucket, refuses what costs too much or
// finds the bucket empty, and tells every client where it stands in `extensions.cost`.
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { isStaffRole } from '../../auth/viewer.js';
import type { Context } from '../context.js';
import type { CostModel } from './cost.js';
import type { BucketLimits, BucketState, LeakyBuckets } from './leakyBucket.js';

export interface QueryCostOptions {
  model: CostModel;
  buckets: LeakyBuckets;
  maxCost: number;
  limits: { anonymous: BucketLimits; customer: BucketLimits; staff: BucketLimits };
}

/** Operations that never reach execution (refused while parsing or validating) are charged this much. */
const REFUSAL_COST = 1;

export function queryCost({ model, buckets, maxCost, limits }: QueryCostOptions): ApolloServerPlugin<Context> {
  const bucketOf = ({ viewer, clientAddress }: Context) => ({
    key: viewer ? `account:${viewer.accountId}` : `address:${clientAddress}`,
    limits: !viewer ? limits.anonymous : isStaffRole(viewer.role) ? limits.staff : limits.customer,
  });

  /** What an operation that ran actually cost, read off its response; null if that cannot be worked out. */
  const actualCost = ({ document, operationName, request, response, contextValue }: GraphQLRequestContext<Context>) => {
    const { body } = response;
    const data = body?.kind === 'single' ? body.singleResult.data : body?.initialResult.data;
    if (!document) return null;
    try {
      return model.responseCost(document, operationName ?? undefined, request.variables ?? {}, data);
    } catch (error) {
      contextValue.logger.warn({ err: error }, 'actual query cost unknown; nothing given back');
      return null;
    }
  };

  return {
    async requestDidStart({ contextValue }) {
      // Signed-in clients are charged to their account once their session is checked (didResolveOperation);
      // until then, and for requests refused before it, to their address.
      let bucket = bucketOf(contextValue);
      let requested: number | null = null;
      let executed = false;
      let state: BucketState | null = null;

      const take = async (points: number): Promise<BucketState> => {
        try {
          return await buckets.take(bucket.key, points, bucket.limits);
        } catch (error) {
          // A rate limiter that is down must not take the store down with it.
          contextValue.logger.warn({ err: error }, 'rate limiter unavailable; request let through');
          return { taken: true, available: bucket.limits.capacity };
        }
      };

      return {
        async didResolveOperation({ document, operationName, request }) {
          await contextValue.authenticate();
          bucket = bucketOf(contextValue);
          requested = model.requestedCost(document, operationName ?? undefined, request.variables ?? {});
          // A query bigger than the client's whole bucket could never run: it is too costly, not throttled.
          const maximum = Math.min(maxCost, bucket.limits.capacity);
          if (requested > maximum) {
            throw new GraphQLError(`The query's cost of ${requested} is above the maximum of ${maximum}.`, {
              extensions: { code: 'MAX_COST_EXCEEDED', maximum, found: requested, http: { status: 400 } },
            });
          }
          state = await take(Math.max(requested, REFUSAL_COST));
          if (!state.taken) {
            const needed = Math.max(requested, REFUSAL_COST) - state.available;
            const retryAfter = Math.max(1, Math.ceil(needed / bucket.limits.restoreRate));
            contextValue.logger.warn({ client: bucket.key, requested, available: state.available }, 'throttled');
            throw new GraphQLError(
              `Throttled: the query costs ${requested} and ${Math.floor(state.available)} points are available. ` +
                `Retry in ${retryAfter} s.`,
              {
                extensions: {
                  code: 'THROTTLED',
                  retryAfterSeconds: retryAfter,
                  http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) },
                },
              },
            );
          }
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse(requestContext: GraphQLRequestContext<Context>) {
          // Read off the response once it is complete, rather than counted field by field as they resolve.
          const actual = executed ? actualCost(requestContext) : null;
          if (!state) state = await take(REFUSAL_COST);
          else if (actual !== null && requested !== null && requested > actual) {
            state = await take(-(Math.max(requested, REFUSAL_COST) - Math.max(actual, REFUSAL_COST)));
          }
          const { body, http } = requestContext.response;
          // A dead session's 401 must read exactly like a forged token's, which never gets this far.
          if (body?.kind !== 'single' || http.status === 401) return;
          body.singleResult.extensions = {
            ...body.singleResult.extensions,
            cost: {
              requestedQueryCost: requested,
              actualQueryCost: actual,
              throttleStatus: {
                maximumAvailable: bucket.limits.capacity,
                currentlyAvailable: Math.floor(state.available),
                restoreRate: bucket.limits.restoreRate,
              },
            },
          };
        },
      };
    },
  };
}
