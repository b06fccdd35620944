// Who is behind each open WebSocket, and for how long: the access token a socket signed in with (checked once, at
// connection_init), closed with 4403 once that token expires or its session is revoked (checked in one query for
// every socket on a timer, and before every push), and anonymous sockets closed once idle.
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { liveViewerOf } from '../auth/requestViewer.js';
import type { AccessClaims } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { AppServices } from './context.js';

export interface SocketSession {
  socket: WebSocket;
  clientAddress: string;
  logger: Logger;
  claims: AccessClaims | null;
  /** Operations running (subscriptions streaming, or a query in the pipeline). */
  running: number;
  idleSince: number;
  expiry?: NodeJS.Timeout;
}

const SESSION_ENDED = 'Forbidden: the session has ended';
const TOKEN_EXPIRED = 'Forbidden: the access token has expired';
const UNCHECKED = 'Try again: the session could not be checked';
/** Normal closure: the client did nothing for too long, and may come back. */
const IDLE = 1000;

export class SocketSessions {
  private readonly sessions = new Map<WebSocket, SocketSession>();
  private readonly timers: NodeJS.Timeout[];

  constructor(
    private readonly services: Pick<AppServices, 'accessTokens' | 'sessions'>,
    private readonly config: Pick<Config, 'WEBSOCKET_IDLE_TIMEOUT_MS' | 'WEBSOCKET_SESSION_CHECK_MS'>,
    private readonly logger: Logger,
  ) {
    const idleCheck = Math.max(50, Math.floor(config.WEBSOCKET_IDLE_TIMEOUT_MS / 4));
    this.timers = [
      setInterval(() => this.closeIdle(), idleCheck).unref(),
      setInterval(() => void this.closeRevoked(), config.WEBSOCKET_SESSION_CHECK_MS).unref(),
    ];
  }

  opened(socket: WebSocket, clientAddress: string) {
    const logger = this.logger.child({ transport: 'websocket', connectionId: randomUUID() });
    this.sessions.set(socket, { socket, clientAddress, logger, claims: null, running: 0, idleSince: Date.now() });
  }

  closed(socket: WebSocket) {
    clearTimeout(this.sessions.get(socket)?.expiry);
    this.sessions.delete(socket);
  }

  of(socket: WebSocket): SocketSession | undefined {
    return this.sessions.get(socket);
  }

  /** connection_init: a socket with an `authorization` parameter is signed in if its token and session are good,
   * and refused (4403) otherwise; without one it stays anonymous. */
  async signIn(socket: WebSocket, authorization: unknown): Promise<boolean> {
    const session = this.sessions.get(socket);
    if (!session) return false;
    if (authorization === undefined || authorization === null || authorization === '') return true;
    const token = typeof authorization === 'string' ? /^Bearer ([\w.~+/-]+=*)$/i.exec(authorization)?.[1] : undefined;
    try {
      const claims = token ? await this.services.accessTokens.verify(token) : null;
      if (!claims || !(await this.services.sessions.viewerFor(claims))) {
        session.logger.info('websocket sign-in refused: the access token is invalid or its session has ended');
        return false;
      }
      session.claims = claims;
      const expiresAt = (decodeJwt(token!).exp ?? 0) * 1000;
      session.expiry = setTimeout(() => socket.close(4403, TOKEN_EXPIRED), Math.max(0, expiresAt - Date.now()));
      session.expiry.unref();
      return true;
    } catch (error) {
      // Not the client's fault (the database, say): 1011 tells it to retry, where 4403 would tell it to give up.
      session.logger.warn({ err: error }, 'websocket sign-in could not be checked; socket closed');
      socket.close(1011, UNCHECKED);
      return false;
    }
  }

  /** The viewer of an operation on the socket: its session checked now, as for an HTTP request. */
  viewerOf(session: SocketSession): Promise<Viewer> {
    return liveViewerOf(session.claims, (claims) => this.services.sessions.viewerFor(claims));
  }

  operationStarted(session: SocketSession) {
    session.running += 1;
  }

  operationEnded(socket: WebSocket) {
    const session = this.sessions.get(socket);
    if (!session) return;
    session.running = Math.max(0, session.running - 1);
    session.idleSince = Date.now();
  }

  /** The stream's results, each sent only once the socket's session is found live just before it. A session that
   * cannot be checked closes the socket with 1011, which clients retry; an ended one with 4403, which they do not. */
  async *whileLive<T>(session: SocketSession, stream: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const result of stream) {
      if (session.claims) {
        let live: boolean;
        try {
          live = Boolean(await this.services.sessions.viewerFor(session.claims));
        } catch (error) {
          session.logger.warn({ err: error }, 'could not check a websocket session before a push; socket closed');
          session.socket.close(1011, UNCHECKED);
          return;
        }
        if (!live) {
          session.socket.close(4403, SESSION_ENDED);
          return;
        }
      }
      yield result;
    }
  }

  stop() {
    for (const timer of this.timers) clearInterval(timer);
  }

  private closeIdle() {
    const before = Date.now() - this.config.WEBSOCKET_IDLE_TIMEOUT_MS;
    for (const session of this.sessions.values()) {
      if (!session.claims && session.running === 0 && session.idleSince <= before) {
        session.logger.debug('idle anonymous websocket closed');
        session.socket.close(IDLE, 'Idle: no subscription running');
      }
    }
  }

  private async closeRevoked() {
    const signedIn = [...this.sessions.values()].filter((session) => session.claims);
    if (signedIn.length === 0) return;
    try {
      const live = await this.services.sessions.liveOf([...new Set(signedIn.map((s) => s.claims!.sessionId))]);
      for (const session of signedIn) {
        if (!live.has(session.claims!.sessionId)) session.socket.close(4403, SESSION_ENDED);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not check the sessions of open websockets; checked again later');
    }
  }
}
