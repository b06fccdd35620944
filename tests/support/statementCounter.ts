import net from 'node:net';

/** One statement as the client had it executed. */
export interface Execution {
  /** The SQL text (of the 'Q' message, or of the Parse ('P') message of the statement the Execute ran). */
  sql: string;
  /** The parameter type OIDs the Parse message declared, in order; 0 or missing means the server infers the type.
   * Empty for simple-protocol queries. */
  parameterTypes: number[];
  /** The values of the Bind ('B') message: text-format values as strings, binary-format ones as Buffers, SQL NULL as
   * null. Empty for simple-protocol queries. */
  parameters: (string | Buffer | null)[];
}

export interface StatementCounter {
  /** postgresql:// URL that goes through the proxy (same user/password/database as the target URL). */
  url: string;
  /** Statements seen since the last reset: each simple-protocol Query ('Q') message counts 1; in the extended protocol each Execute ('E') message counts 1 (Parse/Bind/Describe/Sync do not count). */
  count(): number;
  /** The SQL text of statements seen since the last reset (from 'Q' messages and from the Parse ('P') message matching each Execute; for an Execute of an already-prepared named statement, the text remembered from its earlier Parse). */
  statements(): string[];
  /** The same statements with their parameter types and bound values, so that a test can run them again (say,
   * under EXPLAIN) exactly as the server did. */
  executions(): Execution[];
  reset(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
// Startup-type messages are tiny; anything claiming more is not one (e.g. a TLS ClientHello,
// whose first bytes 0x16 0x03 read as a huge length).
const MAX_STARTUP_LENGTH = 10_000;

/** Reads a NUL-terminated string at `start`; returns it and the offset just past the NUL. */
function cstring(buf: Buffer, start: number): [string, number] {
  const end = buf.indexOf(0, start);
  return [buf.toString('utf8', start, end), end + 1];
}

type Statement = Pick<Execution, 'sql' | 'parameterTypes'>;

/** Parse: name, query, int16 count, int32 type OID per parameter. */
function parseMessage(payload: Buffer): [name: string, statement: Statement] {
  const [name, next] = cstring(payload, 0);
  const [sql, end] = cstring(payload, next);
  const count = payload.length >= end + 2 ? payload.readInt16BE(end) : 0;
  const declared = Math.max(0, Math.min(count, Math.floor((payload.length - end - 2) / 4)));
  const parameterTypes = Array.from({ length: declared }, (_, i) => payload.readUInt32BE(end + 2 + 4 * i));
  return [name, { sql, parameterTypes }];
}

/** Bind: portal, statement, int16 format-code count and codes, int16 value count, then int32 length (-1 for NULL)
 * and bytes per value; result format codes follow. One format code applies to every value; none means text. */
function bindMessage(payload: Buffer): [portal: string, statement: string, parameters: Execution['parameters']] {
  const [portal, next] = cstring(payload, 0);
  const [statement, formatsAt] = cstring(payload, next);
  return [portal, statement, boundValues(payload, formatsAt)];
}

function boundValues(payload: Buffer, formatsAt: number): Execution['parameters'] {
  const parameters: Execution['parameters'] = [];
  try {
    const formatCount = payload.readInt16BE(formatsAt);
    const formats = Array.from({ length: formatCount }, (_, i) => payload.readInt16BE(formatsAt + 2 + 2 * i));
    let offset = formatsAt + 2 + 2 * formatCount;
    const count = payload.readInt16BE(offset);
    offset += 2;
    for (let i = 0; i < count; i++) {
      const length = payload.readInt32BE(offset);
      offset += 4;
      if (length < 0) {
        parameters.push(null);
        continue;
      }
      const bytes = payload.subarray(offset, offset + length);
      offset += length;
      const binary = (formatCount === 1 ? formats[0] : formats[i]) === 1;
      parameters.push(binary ? Buffer.from(bytes) : bytes.toString('utf8'));
    }
  } catch {
    // A truncated value list (no real client sends one) keeps the values before the cut, and the statement.
  }
  return parameters;
}

/** Returns a 'data' handler that parses the client->server byte stream of one connection. */
function clientStreamParser(onStatement: (execution: Execution) => void): (chunk: Buffer) => void {
  // 'opaque': stream we cannot read (TLS/GSS encryption was negotiated, or a CancelRequest).
  let phase: 'startup' | 'messages' | 'opaque' = 'startup';
  let pending: Buffer = Buffer.alloc(0);
  const prepared = new Map<string, Statement>(); // statement name -> its SQL text and declared parameter types
  const portals = new Map<string, Execution>(); // portal name -> its statement and bound values

  const handleMessage = (type: string, payload: Buffer): void => {
    switch (type) {
      case 'Q':
        onStatement({ sql: cstring(payload, 0)[0], parameterTypes: [], parameters: [] });
        break;
      case 'P': {
        const [name, statement] = parseMessage(payload);
        prepared.set(name, statement);
        break;
      }
      case 'B': {
        const [portal, name, parameters] = bindMessage(payload);
        const { sql, parameterTypes } = prepared.get(name) ?? { sql: '', parameterTypes: [] };
        portals.set(portal, { sql, parameterTypes, parameters });
        break;
      }
      case 'E':
        onStatement(portals.get(cstring(payload, 0)[0]) ?? { sql: '', parameterTypes: [], parameters: [] });
        break;
    }
  };

  return (chunk) => {
    if (phase === 'opaque') return;
    const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    while (phase !== 'opaque') {
      const available = buf.length - offset;
      if (phase === 'startup') {
        // Startup-type messages have no type byte: int32 length (including itself) + int32 code.
        if (available < 8) break;
        const length = buf.readInt32BE(offset);
        if (length < 8 || length > MAX_STARTUP_LENGTH) {
          phase = 'opaque';
          break;
        }
        if (available < length) break;
        const code = buf.readInt32BE(offset + 4);
        offset += length;
        // After an SSL/GSSENC request the server answers one byte; if it declined ('N') the client
        // sends the real StartupMessage next, still without a type byte. If it accepted, the client
        // starts a TLS/GSS handshake, which the length check above turns into 'opaque'.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) {
          phase = code >>> 16 === 3 ? 'messages' : 'opaque'; // protocol 3.x, else CancelRequest
        }
      } else {
        // Regular messages: 1 type byte + int32 length (including itself, not the type byte) + payload.
        if (available < 5) break;
        const length = buf.readInt32BE(offset + 1);
        if (available < 1 + length) break;
        handleMessage(String.fromCharCode(buf[offset]!), buf.subarray(offset + 5, offset + 1 + length));
        offset += 1 + length;
      }
    }
    pending = phase === 'opaque' ? Buffer.alloc(0) : buf.subarray(offset);
  };
}

export async function startStatementCounter(targetUrl: string): Promise<StatementCounter> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const targetPort = Number(target.port || 5432);
  let seen: Execution[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    track(client);
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on(
      'data',
      clientStreamParser((execution) => seen.push(execution)),
    );
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const proxyUrl = new URL(targetUrl);
  proxyUrl.hostname = '127.0.0.1';
  proxyUrl.port = String(port);

  return {
    url: proxyUrl.toString(),
    count: () => seen.length,
    statements: () => seen.map((execution) => execution.sql),
    executions: () => [...seen],
    reset: () => {
      seen = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}
