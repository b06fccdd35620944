// Slow-loris clients: headers or a body trickled in a byte at a time are cut off once HTTP_HEADERS_TIMEOUT_MS or
// HTTP_REQUEST_TIMEOUT_MS has passed, instead of holding a connection open for minutes.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { startProductionServer } from './support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  await server?.close();
});

/** Writes `head`, then one more byte of `trickle` every 100 ms; resolves with how long until the server closed the
 * connection and what it answered. */
function trickle(head: string, rest: string): Promise<{ ms: number; answer: string }> {
  const { port } = new URL(server.url);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(head));
    let answer = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < rest.length && !socket.destroyed) socket.write(rest[sent++]!);
    }, 100);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, answer });
    });
  });
}

describe('a slow client', () => {
  it('trickling its headers is cut off after the headers timeout', async () => {
    const { ms } = await trickle('POST /graphql HTTP/1.1\r\nHost: x\r\n', 'X-Slow: ' + 'a'.repeat(200));
    expect(ms).toBeGreaterThan(400);
    expect(ms).toBeLessThan(5_000);
  });

  it('trickling its body is answered 408 after the request timeout', async () => {
    const body = JSON.stringify({ query: '{ __typename }' }).padEnd(300, ' ');
    const head =
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${body.length}\r\n\r\n`;
    const { ms, answer } = await trickle(head, body);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(5_000);
  });
});
