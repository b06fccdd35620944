// Operations from the WebSocket transport (websocket.ts) pass through the same request pipeline as HTTP requests.
// A subscription stops short of execution there (after limits, validation, cost and throttling, trusted documents
// and the session check) and the transport streams the document the pipeline admitted. Over HTTP a subscription is
// refused, and over WebSocket a query or mutation is unless WEBSOCKET_OPERATIONS=all.
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError, OperationTypeNode, type DocumentNode } from 'graphql';
import type { Context } from './context.js';

const ADMISSION = Symbol('subscription admission');

export interface Admission {
  /** The document the pipeline admitted (resolved from a persisted query's hash, if that is how it came). */
  document?: DocumentNode;
  /** It is a subscription, for the transport to stream. */
  streams?: boolean;
}

interface AdmissionState {
  admission: Admission;
  operations: 'subscriptions' | 'all';
}

type AdmittingContext = Context & { [ADMISSION]?: AdmissionState };

/** Marks `context` as the WebSocket transport's, for an operation it will stream itself once admitted. Apollo runs
 * each operation on a shallow copy of its context, so the admission is an object both copies share. */
export function admitting(
  context: Context,
  operations: 'subscriptions' | 'all',
): { context: Context; admission: Admission } {
  const admission: Admission = {};
  const state: AdmissionState = { admission, operations };
  return { context: Object.assign(context, { [ADMISSION]: state }), admission };
}

const subscriptionsOnly = () =>
  new GraphQLError('Over WebSocket this server runs subscriptions only; send queries and mutations over HTTP.', {
    extensions: { code: 'BAD_REQUEST' },
  });

const overHttp = () =>
  new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) at this same URL, not over HTTP.', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });

export const subscriptionAdmission: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    const admissionOf = ({ contextValue }: GraphQLRequestContext<Context>) =>
      (contextValue as AdmittingContext)[ADMISSION];
    return {
      async didResolveOperation(requestContext) {
        const subscription = requestContext.operation?.operation === OperationTypeNode.SUBSCRIPTION;
        const state = admissionOf(requestContext);
        if (!state) {
          if (subscription) throw overHttp();
          return;
        }
        if (!subscription && state.operations === 'subscriptions') throw subscriptionsOnly();
        state.admission.document = requestContext.document;
        state.admission.streams = subscription;
      },
      async responseForOperation(requestContext) {
        if (!admissionOf(requestContext)?.admission.streams) return null;
        return { http: requestContext.response.http, body: { kind: 'single', singleResult: { data: null } } };
      },
    };
  },
};
