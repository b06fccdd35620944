// graphql-ws on the GraphQL URL. Every operation a socket sends goes through the shared GraphQL server's pipeline
// (apollo.executeOperation) exactly as an HTTP request does: limits, validation, cost and throttling, trusted
// documents, the session check, audit, cache eviction, time limit, NUL checks and error masking. Subscriptions stop
// short of execution there (subscriptionAdmission.ts) and stream from here. Around that, the socket's own rules:
// origins on the CORS list, a cap on sockets per client and subscriptions per socket, idle anonymous sockets closed,
// and a socket closed once its session is revoked or its access token expires.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import {
  GraphQLError,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createContext, type AppServices, type Context } from './context.js';
import { formatError } from './errors.js';
import { admitting } from './subscriptionAdmission.js';
import { SocketSessions, type SocketSession } from './socketSessions.js';

export interface WebSocketOptions {
  httpServer: Server;
  apollo: ApolloServer<Context>;
  schema: GraphQLSchema;
  config: Config;
  services: AppServices;
  logger: Logger;
  /** The client's address, as the HTTP app works it out (behind trusted proxies, their forwarded address). */
  clientAddressOf(request: IncomingMessage): string;
}

const PATH = '/graphql';

function refuseUpgrade(socket: Duplex, status: 403 | 404 | 429, reason: string) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
}

/** A browser may open a socket from the API's own origin or one on the CORS list; other clients send no Origin. */
function originAllowed(request: IncomingMessage, allowed: string[]): boolean {
  const origin = request.headers.origin;
  if (!origin || allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

const limitError = (maximum: number) =>
  new GraphQLError(`A socket may run at most ${maximum} subscriptions at once.`, {
    extensions: { code: 'SUBSCRIPTION_LIMIT_EXCEEDED', maximum },
  });

const internalError = () =>
  new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });

/** A refusal the pipeline already formatted (and masked), sent as graphql-ws sends errors: as it stands. */
class FormattedError extends GraphQLError {
  constructor(private readonly formatted: GraphQLFormattedError) {
    super(formatted.message, { extensions: formatted.extensions });
  }

  override toJSON(): GraphQLFormattedError {
    return this.formatted;
  }
}

const fromFormatted = (error: GraphQLFormattedError) => new FormattedError(error);

export function serveWebSocket(options: WebSocketOptions): { dispose(): Promise<void> } {
  const { httpServer, apollo, schema, config, services, logger } = options;
  const masked = (error: GraphQLError) =>
    formatError(error.toJSON(), error, {
      maxTokens: config.MAX_TOKENS,
      hideSuggestions: config.NODE_ENV === 'production',
    });
  const sessions = new SocketSessions(services, config, logger);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: config.MAX_BODY_BYTES });
  const perClient = new Map<string, number>();
  /** The socket each streaming context belongs to, for the check before each push. */
  const streams = new WeakMap<object, SocketSession>();

  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== PATH)
      return refuseUpgrade(socket, 404, 'Not Found');
    if (!originAllowed(request, config.CORS_ORIGINS)) return refuseUpgrade(socket, 403, 'Forbidden');
    const client = options.clientAddressOf(request);
    const open = perClient.get(client) ?? 0;
    if (open >= config.WEBSOCKET_MAX_SOCKETS_PER_CLIENT) return refuseUpgrade(socket, 429, 'Too Many Requests');
    // Counted for as long as the connection lasts, whether or not the handshake succeeds.
    perClient.set(client, open + 1);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
    sockets.handleUpgrade(request, socket, head, (ws) => {
      sessions.opened(ws, client);
      ws.once('close', () => sessions.closed(ws));
      sockets.emit('connection', ws, request);
    });
  });

  const server = useServer<Record<string, unknown>, Record<string, never>>(
    {
      onConnect: async ({ connectionParams, extra }) => sessions.signIn(extra.socket, connectionParams?.authorization),

      onSubscribe: async ({ extra, subscriptions }, id, payload) => {
        const session = sessions.of(extra.socket);
        if (!session) return [internalError()];
        if (Object.keys(subscriptions).length > config.WEBSOCKET_MAX_SUBSCRIPTIONS_PER_SOCKET) {
          return [limitError(config.WEBSOCKET_MAX_SUBSCRIPTIONS_PER_SOCKET)];
        }
        sessions.operationStarted(session);
        let admitted: ExecutionArgs | readonly GraphQLError[];
        try {
          admitted = await admit(session, id, payload);
        } catch (error) {
          session.logger.error({ err: error, operationId: id }, 'websocket operation failed');
          admitted = [internalError()];
        }
        // A refusal ends the operation here; graphql-ws completes the others (onComplete).
        if (Array.isArray(admitted)) sessions.operationEnded(extra.socket);
        return admitted;
      },

      // Queries and mutations ran in the pipeline; their finished (and already masked) result is the root value.
      execute: (args: ExecutionArgs) => args.rootValue as ExecutionResult,
      subscribe: async (args: ExecutionArgs) => {
        const stream = await subscribe(args);
        const session = streams.get(args.contextValue as object);
        return session && Symbol.asyncIterator in stream ? sessions.whileLive(session, stream) : stream;
      },
      onNext: (_ctx, _id, _payload, args, result): FormattedExecutionResult =>
        args.rootValue === result ? result : { ...result, errors: result.errors?.map(masked) },
      onError: (_ctx, _id, _payload, errors) => errors.map(masked),
      onComplete: ({ extra }) => sessions.operationEnded(extra.socket),
    },
    sockets,
  );

  async function admit(
    session: SocketSession,
    id: string,
    payload: SubscribePayload,
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const context = createContext(services, {
      findViewer: () => sessions.viewerOf(session),
      clientAddress: session.clientAddress,
      logger: session.logger.child({ operationId: id }),
    });
    const { context: contextValue, admission } = admitting(context, config.WEBSOCKET_OPERATIONS);
    const response = await apollo.executeOperation(
      {
        query: payload.query || undefined,
        variables: payload.variables ?? undefined,
        operationName: payload.operationName ?? undefined,
        extensions: payload.extensions ?? undefined,
      },
      { contextValue },
    );
    const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
    if (!admission.document || (result.errors?.length && !('data' in result && result.data !== undefined))) {
      return (result.errors ?? []).map(fromFormatted);
    }
    const args = {
      schema,
      document: admission.document,
      operationName: payload.operationName,
      variableValues: payload.variables,
    };
    if (!admission.streams) return { ...args, rootValue: result };
    // The pipeline checked the session on its copy of the context; the stream reads with the viewer it found.
    await context.authenticate();
    streams.set(context, session);
    return { ...args, contextValue: context };
  }

  // Errors on a socket (a frame over maxPayload, say) are logged here, through the redacting logger.
  sockets.on('connection', (ws: WebSocket) => {
    ws.removeAllListeners('error');
    ws.on('error', (error) => {
      sessions.of(ws)?.logger.warn({ err: error }, 'websocket error; socket closed');
      ws.terminate();
    });
  });

  return {
    async dispose() {
      sessions.stop();
      await server.dispose();
    },
  };
}
