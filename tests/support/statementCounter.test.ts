import net from 'node:net';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStatementCounter, type Execution, type StatementCounter } from './statementCounter.js';

const DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

function isReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

const int32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const int16 = (n: number): Buffer => Buffer.from([(n >>> 8) & 255, n & 255]);
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const startupMessage = (code: number, body = Buffer.alloc(0)): Buffer =>
  Buffer.concat([int32(8 + body.length), int32(code), body]);
const message = (type: string, ...parts: Buffer[]): Buffer => {
  const payload = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(type), int32(payload.length + 4), payload]);
};

describe('statementCounter wire parsing (fake upstream)', () => {
  // SSLRequest (declined) + StartupMessage, then simple and extended-protocol traffic.
  const stream = Buffer.concat([
    startupMessage(80877103),
    startupMessage(196608, Buffer.concat([cstr('user'), cstr('postgres'), cstr('')])),
    message('Q', cstr('SELECT 1')),
    message('P', cstr('s1'), cstr('SELECT $1'), Buffer.alloc(2)),
    message('B', cstr(''), cstr('s1'), Buffer.alloc(6)),
    message('D', Buffer.from('P'), cstr('')),
    message('E', cstr(''), int32(0)),
    message('S'),
    message('P', cstr(''), cstr('SELECT 2'), Buffer.alloc(2)),
    message('B', cstr('portal'), cstr(''), Buffer.alloc(6)),
    message('E', cstr('portal'), int32(0)),
    message('B', cstr(''), cstr('s1'), Buffer.alloc(6)),
    message('E', cstr(''), int32(0)),
    message('S'),
  ]);

  /** Sends `chunks` through a proxy to an upstream that only reads, and returns what the proxy recorded. */
  async function record(chunks: Buffer[]): Promise<Execution[]> {
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    let received = 0;
    let allReceived!: () => void;
    const done = new Promise<void>((resolve) => (allReceived = resolve));
    const upstream = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (data) => {
        received += data.length;
        if (received === total) allReceived();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as net.AddressInfo;
    const counter = await startStatementCounter(`postgresql://postgres@127.0.0.1:${port}/postgres`);
    const proxyPort = Number(new URL(counter.url).port);
    const socket = net.connect(proxyPort, '127.0.0.1').setNoDelay(true);
    for (const chunk of chunks) {
      await new Promise<void>((resolve) => socket.write(chunk, () => setTimeout(resolve, 1)));
    }
    await done; // the proxy parses each chunk before forwarding it
    const executions = counter.executions();
    expect(counter.statements()).toEqual(executions.map((execution) => execution.sql));
    socket.destroy();
    await counter.close();
    await new Promise((resolve) => upstream.close(resolve));
    return executions;
  }

  const send = async (chunks: Buffer[]) => (await record(chunks)).map((execution) => execution.sql);

  const expected = ['SELECT 1', 'SELECT $1', 'SELECT 2', 'SELECT $1'];

  it('parses messages arriving in one chunk', async () => {
    expect(await send([stream])).toEqual(expected);
  });

  it('parses messages split across many chunks', async () => {
    const pieces = Array.from({ length: Math.ceil(stream.length / 3) }, (_, i) => stream.subarray(i * 3, i * 3 + 3));
    expect(await send(pieces)).toEqual(expected);
  });

  it('records the declared parameter types and the bound values of each execution', async () => {
    const withValues = Buffer.concat([
      startupMessage(196608, Buffer.concat([cstr('user'), cstr('postgres'), cstr('')])),
      message('Q', cstr('SELECT 1')),
      // Types int4, unspecified and bytea; values in text, text and binary format, the second one NULL.
      message('P', cstr('s1'), cstr('SELECT $1, $2, $3'), int16(3), int32(23), int32(0), int32(17)),
      message('B', cstr(''), cstr('s1'), int16(3), int16(0), int16(0), int16(1), int16(3), int32(2), Buffer.from('42'), int32(-1), int32(2), Buffer.from([0xde, 0xad]), int16(0)), // prettier-ignore
      message('E', cstr(''), int32(0)),
      // Re-executed under a named portal with one format code (text) for every value; 'héllo' is 6 bytes of UTF-8.
      message('B', cstr('p'), cstr('s1'), int16(1), int16(0), int16(3), int32(1), Buffer.from('7'), int32(6), Buffer.from('héllo'), int32(0), int16(0)), // prettier-ignore
      message('E', cstr('p'), int32(0)),
      message('S'),
      // No types declared, no values bound.
      message('P', cstr(''), cstr('SELECT now()'), int16(0)),
      message('B', cstr(''), cstr(''), int16(0), int16(0), int16(0)),
      message('E', cstr(''), int32(0)),
      message('S'),
    ]);
    const executions = await record([withValues]);
    expect(executions).toEqual([
      { sql: 'SELECT 1', parameterTypes: [], parameters: [] },
      { sql: 'SELECT $1, $2, $3', parameterTypes: [23, 0, 17], parameters: ['42', null, Buffer.from([0xde, 0xad])] },
      { sql: 'SELECT $1, $2, $3', parameterTypes: [23, 0, 17], parameters: ['7', 'héllo', ''] },
      { sql: 'SELECT now()', parameterTypes: [], parameters: [] },
    ]);
  });
});

const reachable = await isReachable('127.0.0.1', 5432);

describe.skipIf(!reachable)('statementCounter (PostgreSQL at 127.0.0.1:5432)', () => {
  let counter: StatementCounter;
  let client: pg.Client;

  beforeEach(async () => {
    counter = await startStatementCounter(DATABASE_URL);
    client = new pg.Client({ connectionString: counter.url });
    await client.connect();
    counter.reset();
  });

  afterEach(async () => {
    await client.end().catch(() => undefined);
    await counter.close();
  });

  it('exposes a proxy URL with the same user and database', () => {
    const url = new URL(counter.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).not.toBe('5432');
    expect(url.username).toBe('postgres');
    expect(url.pathname).toBe('/postgres');
  });

  it('counts a simple query once', async () => {
    const result = await client.query('SELECT 1 AS one');
    expect(result.rows).toEqual([{ one: 1 }]);
    expect(counter.count()).toBe(1);
    expect(counter.statements()).toEqual(['SELECT 1 AS one']);
  });

  it('counts a parameterized (extended protocol) query once', async () => {
    const result = await client.query('SELECT $1::int AS n', [1]);
    expect(result.rows).toEqual([{ n: 1 }]);
    expect(counter.count()).toBe(1);
    expect(counter.statements()).toEqual(['SELECT $1::int AS n']);
  });

  it('attributes executions of a named prepared statement to its SQL text', async () => {
    const run = (n: number) => client.query({ name: 'q1', text: 'SELECT $1::int AS n', values: [n] });
    expect((await run(2)).rows).toEqual([{ n: 2 }]);
    expect((await run(3)).rows).toEqual([{ n: 3 }]); // pg skips Parse the second time
    expect(counter.count()).toBe(2);
    expect(counter.statements()).toEqual(['SELECT $1::int AS n', 'SELECT $1::int AS n']);
  });

  it('records the values bound to each execution', async () => {
    const run = (n: number | null) =>
      client.query({ name: 'q2', text: 'SELECT $1::int AS n, $2::text AS t', values: [n, `v${n}`] });
    expect((await run(4)).rows).toEqual([{ n: 4, t: 'v4' }]);
    expect((await run(null)).rows).toEqual([{ n: null, t: 'vnull' }]);
    // pg declares no parameter types: the server infers them, as it does for the statements Prisma sends.
    expect(counter.executions()).toEqual([
      { sql: 'SELECT $1::int AS n, $2::text AS t', parameterTypes: [], parameters: ['4', 'v4'] },
      { sql: 'SELECT $1::int AS n, $2::text AS t', parameterTypes: [], parameters: [null, 'vnull'] },
    ]);
  });

  it('counts a multi-statement simple query as one message', async () => {
    const results = (await client.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.rows)).toEqual([[{ a: 1 }], [{ b: 2 }]]);
    expect(counter.statements()).toEqual(['SELECT 1 AS a; SELECT 2 AS b']);
  });

  it('resets the count and the statement list', async () => {
    await client.query('SELECT 1');
    await client.query('SELECT $1::int', [1]);
    expect(counter.count()).toBe(2);
    counter.reset();
    expect(counter.count()).toBe(0);
    expect(counter.statements()).toEqual([]);
    await client.query('SELECT 2');
    expect(counter.statements()).toEqual(['SELECT 2']);
  });

  it('passes large messages and results through unchanged', async () => {
    // Big enough to be split across several TCP chunks in both directions.
    const big = 'x'.repeat(300_000);
    const sql = 'SELECT g, md5(g::text) AS h FROM generate_series(1, 5000) g';
    const direct = new pg.Client({ connectionString: DATABASE_URL });
    await direct.connect();
    try {
      const [viaProxy, expected] = [await client.query(sql), await direct.query(sql)];
      expect(viaProxy.rows).toEqual(expected.rows);
      expect((await client.query('SELECT length($1::text) AS len', [big])).rows).toEqual([{ len: 300_000 }]);
      expect((await client.query(`SELECT '${big}' AS s`)).rows[0].s).toBe(big);
    } finally {
      await direct.end();
    }
    expect(counter.count()).toBe(3);
    expect(counter.statements()[2]).toBe(`SELECT '${big}' AS s`);
  });

  it('passes errors through and still counts the statement', async () => {
    await expect(client.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    expect(counter.statements()).toEqual(['SELECT * FROM no_such_table']);
  });

  it('counts statements from several concurrent pool connections', async () => {
    const pool = new pg.Pool({ connectionString: counter.url, max: 4 });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => pool.query('SELECT $1::int AS n, pg_backend_pid() AS pid', [i])),
      );
      expect(results.map((r) => r.rows[0].n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(new Set(results.map((r) => r.rows[0].pid)).size).toBe(4);
      expect(counter.count()).toBe(20);
      expect(new Set(counter.statements())).toEqual(new Set(['SELECT $1::int AS n, pg_backend_pid() AS pid']));
    } finally {
      await pool.end();
    }
  });

  it('close() destroys open connections', async () => {
    client.on('error', () => undefined); // pg reports the dropped connection as an 'error' event
    await counter.close();
    await expect(client.query('SELECT 1')).rejects.toThrow();
    counter = await startStatementCounter(DATABASE_URL); // so afterEach has something to close
  });
});
