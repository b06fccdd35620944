// Upgrade requests that never become a socket (no Sec-WebSocket-Key, a wrong version) must not count against the
// client's cap on open sockets: otherwise a few bad requests would lock an address (and whoever shares it) out.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TestServer } from '../support/testServer.js';
import { startProductionServer } from './support.js';
import { wsUrl } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_MAX_SOCKETS_PER_CLIENT: '2' });
});
afterAll(async () => {
  await server?.close();
});

/** A hand-written upgrade request; resolves with the status line the server answered. */
function rawUpgrade(headers: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(Number(port), '127.0.0.1', () =>
      socket.write(
        `GET /graphql HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
  });
}

function open(): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl(server), 'graphql-transport-ws');
    socket.once('open', () => {
      resolve('open');
      socket.terminate();
    });
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('error', () => undefined);
  });
}

describe('upgrade requests that fail the handshake', () => {
  it('are refused and leave the client its sockets', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await rawUpgrade('Sec-WebSocket-Version: 13\r\n')).toMatch(/^HTTP\/1\.1 400/);
      expect(await rawUpgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n')).toMatch(
        /^HTTP\/1\.1 (400|426)/,
      );
    }
    expect(await open()).toBe('open');
  });
});
