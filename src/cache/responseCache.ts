// Whole-response caching of public catalog reads, driven by the `@cacheControl` hints in the SDL. Only responses
// whose every field is PUBLIC are shared; anything viewer-specific (PRIVATE or uncacheable) is never stored. Staff
// always read live data, and any mutation by staff evicts every cached response (see catalogVersion.ts). Concurrent
// misses of one response in this process are answered by a single build (see singleFlight.ts).
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import responseCachePlugin, { type ApolloServerPluginResponseCacheOptions } from '@apollo/server-plugin-response-cache';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { OperationTypeNode } from 'graphql';
import { isStaffRole, type Viewer } from '../auth/viewer.js';
import type { Context } from '../graphql/context.js';
import type { CatalogVersion } from './catalogVersion.js';
import { SingleFlightCache } from './singleFlight.js';

/** How stale a field that depends on stock levels may be, in seconds. */
export const STOCK_MAX_AGE = 5;

const readsLiveData = (viewer: Viewer) => viewer !== null && isStaffRole(viewer.role);

export function responseCache(cache: KeyValueCache<string>, version: CatalogVersion): ApolloServerPlugin<Context>[] {
  const versions = new WeakMap<Context, string | null>();
  const shared = ({ contextValue }: GraphQLRequestContext<Context>) =>
    !readsLiveData(contextValue.viewer) && versions.get(contextValue) != null;

  const options: ApolloServerPluginResponseCacheOptions<Context> = {
    // No per-session entries: a PRIVATE response is never stored.
    sessionId: () => Promise.resolve(null),
    extraCacheKeyData: async ({ contextValue }) => {
      const current = readsLiveData(contextValue.viewer) ? null : await version.current();
      versions.set(contextValue, current);
      return current;
    },
    shouldReadFromCache: (requestContext) => Promise.resolve(shared(requestContext)),
    shouldWriteToCache: (requestContext) => Promise.resolve(shared(requestContext)),
  };
  const singleFlight = new SingleFlightCache(cache);

  return [
    {
      // Apollo's plugin, over this request's own view of the cache: when the request builds a response that others
      // wait for, storing it hands it to them, and sending it unstored (errors, private fields) lets them build. A
      // request that fails without sending a response leaves its lease to lapse (singleFlight.ts).
      async requestDidStart(requestContext) {
        const caller = singleFlight.caller();
        const plugin = responseCachePlugin<Context>({ ...options, cache: caller });
        const listener = await plugin.requestDidStart?.(requestContext);
        return {
          ...listener,
          async willSendResponse(requestContext) {
            try {
              await listener?.willSendResponse?.(requestContext);
            } finally {
              caller.release();
            }
          },
        };
      },
    },
    {
      async requestDidStart() {
        return {
          async didResolveOperation(requestContext) {
            await requestContext.contextValue.authenticate();
            // What staff see must not reach a CDN or a browser's shared cache either.
            if (readsLiveData(requestContext.contextValue.viewer)) {
              requestContext.overallCachePolicy.restrict({ maxAge: 0 });
            }
          },
          async willSendResponse({ operation, contextValue }) {
            if (operation?.operation === OperationTypeNode.MUTATION && readsLiveData(contextValue.viewer)) {
              await version.bump().catch((error: unknown) => {
                contextValue.logger.error({ err: error }, 'cached responses not evicted after a staff change');
              });
            }
          },
        };
      },
    },
  ];
}
