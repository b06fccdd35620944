// Charges each operation its calculated cost against the client's leaky bucket, refuses what costs too much or
// finds the bucket empty, and tells every client where it stands in `extensions.cost`. Once the response is known
// (executed or read from the response cache alike), the charge is settled to what it cost: less where lists came back
// shorter, more where they came back longer, even into debt.
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { isStaffRole } from '../../auth/viewer.js';
import type { Context } from '../context.js';
import { refuseNulCharacters } from '../nulCharacters.js';
import type { CostModel } from './cost.js';
import type { BucketLimits, BucketState, LeakyBuckets } from './leakyBucket.js';

export interface QueryCostOptions {
  model: CostModel;
  buckets: LeakyBuckets;
  maxCost: number;
  limits: { anonymous: BucketLimits; customer: BucketLimits; staff: BucketLimits };
}

/** The least any operation is charged, whatever it costs. */
const REFUSAL_COST = 1;
/** Bytes of a document's text that cost a point to store (automatic persisted queries) or to refuse. */
const DOCUMENT_BYTES_PER_POINT = 1024;

/** A point per KB of the query text sent, at least REFUSAL_COST. */
const documentCost = (query: string | undefined) =>
  Math.max(REFUSAL_COST, Math.ceil(Buffer.byteLength(query ?? '') / DOCUMENT_BYTES_PER_POINT));

export function queryCost({ model, buckets, maxCost, limits }: QueryCostOptions): ApolloServerPlugin<Context> {
  const bucketOf = ({ viewer, clientAddress }: Context) => ({
    key: viewer ? `account:${viewer.accountId}` : `address:${clientAddress}`,
    limits: !viewer ? limits.anonymous : isStaffRole(viewer.role) ? limits.staff : limits.customer,
  });

  /**
   * What an operation actually cost, read off the data it sends back, whether executed or answered from the response
   * cache; null without data (refused after it was charged, or nothing to count), or if it cannot be worked out.
   */
  const actualCost = ({ document, operationName, request, response, contextValue }: GraphQLRequestContext<Context>) => {
    const { body } = response;
    const data = body?.kind === 'single' ? body.singleResult.data : body?.initialResult.data;
    if (!document || !data) return null;
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
      let state: BucketState | null = null;

      const take = async (points: number, force = false): Promise<BucketState> => {
        try {
          return await buckets.take(bucket.key, points, bucket.limits, force);
        } catch (error) {
          // A rate limiter that is down must not take the store down with it.
          contextValue.logger.warn({ err: error }, 'rate limiter unavailable; request let through');
          return { taken: true, available: bucket.limits.capacity };
        }
      };

      return {
        async didResolveOperation({ document, operationName, request, metrics }) {
          // Input is refused before the session is looked up: such a request sends no SQL (as in sessionCheck).
          refuseNulCharacters(document, request.variables);
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
          // Apollo stores a persisted query's text once the operation passes this hook, for a day.
          const storing = metrics.persistedQueryRegister ? documentCost(request.query) : 0;
          const charge = Math.max(requested, REFUSAL_COST) + storing;
          state = await take(charge);
          if (!state.taken) {
            const needed = charge - state.available;
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
        async willSendResponse(requestContext: GraphQLRequestContext<Context>) {
          // Read off the response once it is complete, rather than counted field by field as they resolve.
          const actual = state?.taken ? actualCost(requestContext) : null;
          if (!state) state = await take(documentCost(requestContext.request.query));
          else if (actual !== null && requested !== null && actual !== requested) {
            // Given back where lists came back shorter; taken, bucket or not, where they came back longer.
            state = await take(Math.max(actual, REFUSAL_COST) - Math.max(requested, REFUSAL_COST), true);
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
