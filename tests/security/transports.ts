// The same GraphQL request sent over each transport a client can reach: HTTP POST, HTTP GET and WebSocket
// (graphql-ws, one socket per operation, as a fresh attacker would open). Each answers an Outcome of the same shape,
// so that one table of hostile requests can expect the same refusal from every transport.
//
// HTTP-only by nature, and tested over HTTP alone: malformed JSON bodies, content types and charsets, bodies over
// MAX_BODY_BYTES (a WebSocket frame that large is cut off by the socket itself, see websocket.test.ts), CSRF and the
// preflight header, GET's own refusals (mutations, URLs too long), batched operations, the Authorization header's
// forms, proxy headers (X-Forwarded-For), slow clients, HTTP status codes and Retry-After.
import { createClient } from 'graphql-ws';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { TestServer } from '../support/testServer.js';
import { bearer, expectNoLeak, get, post, type Refusal } from './support.js';

export interface GraphQLRequest {
  query?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  extensions?: Record<string, unknown>;
}

export interface Outcome {
  /** HTTP only: the status code. */
  status?: number;
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, any> }[];
  extensions?: Record<string, any>;
  /** Everything the client received, for looking for leaks. */
  text: string;
  /** WebSocket only: the close code when the server closed the socket instead of answering. */
  closed?: number;
}

export type Transport = (server: TestServer, request: GraphQLRequest, token?: string) => Promise<Outcome>;

export const overPost: Transport = async (server, request, token) => {
  const res = await post(server, request, token ? bearer(token) : {});
  return { ...res.body, status: res.status, text: res.text };
};

export const overGet: Transport = async (server, request, token) => {
  const params: Record<string, string> = request.query ? { query: request.query } : {};
  if (request.variables) params.variables = JSON.stringify(request.variables);
  if (request.extensions) params.extensions = JSON.stringify(request.extensions);
  const res = await get(server, params, { 'apollo-require-preflight': 'true', ...(token ? bearer(token) : {}) });
  return { ...res.body, status: res.status, text: res.text };
};

export const wsUrl = (server: TestServer) => server.url.replace(/^http/, 'ws');

/** One operation on a socket of its own, signed in with `connectionParams`; the first result (or refusal), after
 * which the socket closes. */
export const overWebSocketWith = (
  server: TestServer,
  request: GraphQLRequest,
  connectionParams: Record<string, unknown>,
): Promise<Outcome> =>
  new Promise((resolve) => {
    const received: unknown[] = [];
    const client = createClient({
      url: wsUrl(server),
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      lazy: true,
    });
    const finish = (outcome: Omit<Outcome, 'text'>) => {
      void client.dispose();
      resolve({ ...outcome, text: JSON.stringify(received) });
    };
    // graphql-ws needs a query string; a persisted query's is empty.
    client.subscribe(
      { ...request, query: request.query ?? '' },
      {
        next: (value) => {
          received.push(value);
          finish(value as Outcome);
        },
        error: (error) => {
          received.push(error);
          if (Array.isArray(error)) return finish({ errors: error });
          const code = (error as { code?: number }).code;
          finish({ closed: typeof code === 'number' ? code : -1 });
        },
        complete: () => finish({}),
      },
    );
  });

/** One operation on a socket of its own, as the bearer of `token` (the `authorization` connection parameter). */
export const overWebSocket: Transport = (server, request, token) =>
  overWebSocketWith(server, request, token ? { authorization: `Bearer ${token}` } : {});

export const TRANSPORTS: [string, Transport][] = [
  ['HTTP POST', overPost],
  ['HTTP GET', overGet],
  ['WebSocket', overWebSocket],
];

/** expectRefused for any transport: the status over HTTP, and over every transport one error with the code (and
 * message, maximum, found when given), no data, and no leak. */
export function expectRefusedOutcome(outcome: Outcome, expected: Refusal) {
  if (outcome.status !== undefined) expect(outcome.status, outcome.text).toBe(expected.status);
  expect(outcome.closed, outcome.text).toBeUndefined();
  expect(outcome.data, outcome.text).toBeUndefined();
  expect(outcome.errors, outcome.text).toHaveLength(1);
  const [error] = outcome.errors!;
  expect(error!.extensions?.code, outcome.text).toBe(expected.code);
  if (typeof expected.message === 'string') expect(error!.message).toBe(expected.message);
  else if (expected.message) expect(error!.message).toMatch(expected.message);
  if ('maximum' in expected) expect(error!.extensions?.maximum).toBe(expected.maximum);
  if ('found' in expected) expect(error!.extensions?.found).toBe(expected.found);
  expectNoLeak(outcome.text);
}
