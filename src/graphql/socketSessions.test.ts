// The check before each push: a live session's results pass, a revoked one's close the socket with 4403 (the
// client must sign in again), and one that cannot be checked (the database unreachable) closes it with 1011, which
// graphql-ws clients retry, rather than 4403, which they take as final.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { AccessClaims } from '../auth/tokens.js';
import { createLogger } from '../logger.js';
import { loadConfig } from '../config.js';
import { SocketSessions } from './socketSessions.js';

const claims: AccessClaims = { accountId: 'a', role: 'CUSTOMER', sessionId: 's' };
const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
let sessions: SocketSessions | undefined;
afterEach(() => sessions?.stop());

function sessionsWith(viewerFor: () => Promise<unknown>) {
  sessions = new SocketSessions(
    {
      accessTokens: { verify: async () => claims } as never,
      sessions: { viewerFor, liveOf: async () => new Set() } as never,
    },
    config,
    createLogger(config),
  );
  const socket = { close: vi.fn() } as unknown as WebSocket;
  sessions.opened(socket, '127.0.0.1');
  return { sessions, socket };
}

async function pushesWith(viewerFor: () => Promise<unknown>) {
  const { socket } = sessionsWith(viewerFor);
  const session = sessions!.of(socket)!;
  session.claims = claims;
  async function* results() {
    yield 1;
    yield 2;
  }
  const sent: number[] = [];
  for await (const result of sessions!.whileLive(session, results())) sent.push(result);
  return { sent, close: (socket.close as ReturnType<typeof vi.fn>).mock.calls };
}

describe('SocketSessions.whileLive', () => {
  it('passes every result while the session lives', async () => {
    expect(await pushesWith(async () => ({ accountId: 'a' }))).toEqual({ sent: [1, 2], close: [] });
  });

  it('closes the socket with 4403 once the session has ended, sending nothing more', async () => {
    const { sent, close } = await pushesWith(async () => null);
    expect(sent).toEqual([]);
    expect(close).toEqual([[4403, 'Forbidden: the session has ended']]);
  });

  it('closes the socket with 1011 (retry) when the session cannot be checked, sending nothing', async () => {
    const { sent, close } = await pushesWith(async () => {
      throw new Error('connection terminated');
    });
    expect(sent).toEqual([]);
    expect(close).toEqual([[1011, 'Try again: the session could not be checked']]);
  });
});

describe('SocketSessions.signIn', () => {
  it('refuses (4403, by graphql-ws) a token whose session has ended', async () => {
    const { sessions: signing, socket } = sessionsWith(async () => null);
    expect(await signing.signIn(socket, 'Bearer a.b.c')).toBe(false);
    expect((socket.close as ReturnType<typeof vi.fn>).mock.calls).toEqual([]);
  });

  it('closes with 1011 (retry) when the session cannot be checked', async () => {
    const { sessions: signing, socket } = sessionsWith(async () => {
      throw new Error('connection terminated');
    });
    expect(await signing.signIn(socket, 'Bearer a.b.c')).toBe(false);
    expect((socket.close as ReturnType<typeof vi.fn>).mock.calls).toEqual([
      [1011, 'Try again: the session could not be checked'],
    ]);
  });
});
