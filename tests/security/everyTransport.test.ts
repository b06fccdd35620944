// One table of hostile requests, sent over every transport (HTTP POST, HTTP GET, WebSocket), expecting the same
// refusal from each and not one SQL statement: the protections live in one pipeline, not in one transport's plugins.
// The Lambda handler runs the same table in lambdaTransport.test.ts; each attack's own file (limits, disclosure,
// injection, persisted, cost, tokens, timeouts) runs its table over every transport too.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestServer } from '../support/testServer.js';
import { FIELD_DUPLICATION, HOSTILE, type Hostile } from './hostile.js';
import { expectNoLeak, startProductionServer, withoutQueries } from './support.js';
import { overPost, overWebSocket, TRANSPORTS, type Outcome, type Transport } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  server = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all', RATE_LIMIT_ANONYMOUS: '100000/0.001' });
});
afterAll(() => server?.close());

/** The one refusal a hostile request must get: its code, no data, nothing internal, no suggestion. */
function expectRefusal(outcome: Outcome, hostile: Hostile) {
  expect(outcome.errors, outcome.text).toHaveLength(hostile.errors ?? 1);
  for (const error of outcome.errors!) expect(error.extensions?.code, outcome.text).toBe(hostile.code);
  // Nothing ran, or (a mutation refused by its rule) its field answered null.
  expect(Object.values(outcome.data ?? {}).filter((value) => value !== null)).toEqual([]);
  expect(outcome.text).not.toMatch(/did you mean/i);
  expectNoLeak(outcome.text, hostile.echoes);
}

const forEachTransport = (hostile: Hostile) =>
  TRANSPORTS.filter(([name]) => !(name === 'HTTP GET' && hostile.notOverGet)).map(
    ([name, transport]) => [name, transport, hostile] as const,
  );

describe.each(HOSTILE.map((hostile) => [hostile.name, hostile] as const))('%s', (_, hostile) => {
  it.each(forEachTransport(hostile))('is refused over %s with the same code', async (_name, transport) => {
    const outcome = await withoutQueries(server, () => transport(server, hostile.request));
    expectRefusal(outcome, hostile);
  });
});

describe('a refusal', () => {
  it.each(TRANSPORTS)('points at the offending place in the document over %s, as over POST', async (_, transport) => {
    const outcome = await transport(server, { query: '{\n  prodcts { id }\n}' });
    expect(outcome.errors?.[0]).toMatchObject({
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      locations: [{ line: 2, column: 3 }],
    });
  });
});

describe('field duplication', () => {
  it.each(TRANSPORTS)('is answered at once over %s', async (_, transport) => {
    const started = performance.now();
    const outcome = await withoutQueries(server, () => transport(server, FIELD_DUPLICATION));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(outcome.errors, outcome.text).toBeUndefined();
    expect(outcome.data).toEqual({ __typename: 'Query' });
  });
});

describe('an invalid access token', () => {
  it('is refused over HTTP with 401 and over WebSocket by closing with 4403, with nothing written to the console', async () => {
    const consoleError = vi.spyOn(console, 'error');
    try {
      const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
      const http = await withoutQueries(server, () => overPost(server, { query: '{ __typename }' }, forged));
      expect(http.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const ws = await withoutQueries(server, () => overWebSocket(server, { query: '{ __typename }' }, forged));
      expect(ws.closed).toBe(4403);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });
});

describe('throttling', () => {
  it.each(TRANSPORTS)('empties the same bucket over %s', async (_, transport: Transport) => {
    // Three points, and nothing given back: each refused request costs one.
    const small = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all', RATE_LIMIT_ANONYMOUS: '3/0.001' });
    try {
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push(await transport(small, { query: '{ prodcts { id } }' }));
      outcomes.push(await transport(small, { query: '{ __typename }' }));
      expect(outcomes.map((outcome) => outcome.errors?.[0]?.extensions?.code ?? 'OK')).toEqual([
        'GRAPHQL_VALIDATION_FAILED',
        'GRAPHQL_VALIDATION_FAILED',
        'GRAPHQL_VALIDATION_FAILED',
        'THROTTLED',
      ]);
    } finally {
      await small.close();
    }
  });

  it('empties one bucket whatever transports a client mixes', async () => {
    const small = await startProductionServer({ WEBSOCKET_OPERATIONS: 'all', RATE_LIMIT_ANONYMOUS: '3/0.001' });
    try {
      const codes = [];
      for (const [, transport] of [...TRANSPORTS, ...TRANSPORTS]) {
        const outcome = await transport(small, { query: '{ __typename }' });
        codes.push(outcome.errors?.[0]?.extensions?.code ?? 'OK');
      }
      expect(codes).toEqual(['OK', 'OK', 'OK', 'THROTTLED', 'THROTTLED', 'THROTTLED']);
      // the refusal is decided without the database
      await withoutQueries(small, () => overWebSocket(small, { query: '{ __typename }' }));
    } finally {
      await small.close();
    }
  });
});
