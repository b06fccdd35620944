// OpenTelemetry tracing through HTTP: the span tree of a request (server, operation, resolvers, Prisma's SQL), an
// incoming traceparent continued, trace ids on log lines, and spans exported over OTLP to a collector.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/testServer.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** Log lines as the server writes them, parsed. */
function logCapture() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

async function post(
  server: TestServer,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    body: (await response.json()) as any,
  };
}

/** The spans of one trace, and their relations. */
function treeOf(spans: ReadableSpan[]) {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const parentOf = (span: ReadableSpan) => byId.get(span.parentSpanContext?.spanId ?? '');
  const named = (name: string | RegExp) =>
    spans.filter((span) => (typeof name === 'string' ? span.name === name : name.test(span.name)));
  const one = (name: string | RegExp) => {
    const found = named(name);
    expect(found, `spans named ${String(name)}: ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
    return found[0]!;
  };
  const ancestors = (span: ReadableSpan) => {
    const chain: ReadableSpan[] = [];
    for (let at = parentOf(span); at; at = parentOf(at)) chain.push(at);
    return chain;
  };
  return { spans, parentOf, named, one, ancestors };
}

describe('with tracing into memory', () => {
  const exporter = new InMemorySpanExporter();
  const logs = logCapture();
  let server: TestServer;
  let staff: string;

  beforeAll(async () => {
    server = await startTestServer({
      spanProcessor: new SimpleSpanProcessor(exporter),
      logStream: logs.stream,
      env: { LOG_LEVEL: 'info' },
    });
    staff = await server.tokenFor('STAFF');
  });
  afterAll(() => server?.close());
  beforeEach(() => exporter.reset());

  /** The finished spans of the trace that the request with x-request-id `requestId` started. */
  function traceOfRequest(requestId: string | null) {
    const line = logs.lines.find((entry) => entry.msg === 'request completed' && entry.req?.id === requestId);
    expect(line?.trace_id, 'the request log line carries the trace id').toMatch(/^[0-9a-f]{32}$/);
    return treeOf(exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === line!.trace_id));
  }

  it('traces a mutation: server span, operation span, the resolver, and Prisma with its SQL', async () => {
    const { body, requestId } = await post(
      server,
      `mutation CreateTee($input: ProductCreateInput!) {
        productCreate(input: $input) { product { title variants { sku } } userErrors { code } }
      }`,
      {
        token: staff,
        variables: { input: { title: 'Traced Tee', variants: [{ sku: 'TRACED-1', price: '10.00' }] } },
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.productCreate.product.variants).toEqual([{ sku: 'TRACED-1' }]);

    const tree = traceOfRequest(requestId);
    const server_ = tree.one('POST /graphql');
    expect(server_.kind).toBe(SpanKind.SERVER);
    expect(server_.parentSpanContext).toBeUndefined();
    expect(server_.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'url.path': '/graphql',
      'http.response.status_code': 200,
    });

    const operation = tree.one('mutation CreateTee');
    expect(tree.parentOf(operation)).toBe(server_);
    expect(operation.attributes).toMatchObject({
      'graphql.operation.type': 'mutation',
      'graphql.operation.name': 'CreateTee',
    });
    expect(operation.attributes['graphql.document.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(operation.status.code).toBe(SpanStatusCode.UNSET);

    const resolver = tree.one('resolve Mutation.productCreate');
    expect(tree.parentOf(resolver)).toBe(operation);
    expect(resolver.attributes).toMatchObject({
      'graphql.field.coordinate': 'Mutation.productCreate',
      'graphql.field.path': 'productCreate',
    });

    const queries = tree.named('prisma:client:db_query');
    const inserts = queries.filter((span) =>
      /^INSERT INTO "public"."product"/.test(String(span.attributes['db.query.text'])),
    );
    expect(inserts.length).toBeGreaterThan(0);
    for (const insert of inserts) {
      expect(insert.kind).toBe(SpanKind.CLIENT);
      expect(insert.attributes['db.system.name']).toBe('postgresql');
      expect(tree.ancestors(insert)).toContain(resolver);
    }
    // Everything in the trace hangs off the server span.
    for (const span of tree.spans) if (span !== server_) expect(tree.ancestors(span).at(-1)).toBe(server_);
  });

  it('traces batched loads: one span for the resolver whose load started the batch, Prisma under it', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const created = await post(
        server,
        `mutation ($input: ProductCreateInput!) { productCreate(input: $input) { product { id } userErrors { code } } }`,
        {
          token: staff,
          variables: { input: { title: `Batched ${n}`, variants: [{ sku: `BATCHED-${n}`, price: '5.00' }] } },
        },
      );
      ids.push(created.body.data.productCreate.product.id);
    }
    exporter.reset();

    const { body, requestId } = await post(
      server,
      `query Three($a: ID!, $b: ID!, $c: ID!) {
        a: product(id: $a) { id title variants { sku } }
        b: product(id: $b) { id title variants { sku } }
        c: product(id: $c) { id title variants { sku } }
      }`,
      { variables: { a: ids[0], b: ids[1], c: ids[2] } },
    );
    expect(body.data.c.variants).toEqual([{ sku: 'BATCHED-3' }]);

    const tree = traceOfRequest(requestId);
    const operation = tree.one('query Three');
    expect(tree.parentOf(operation)?.name).toBe('POST /graphql');
    const sqlUnder = (span: ReadableSpan) =>
      tree
        .named('prisma:client:db_query')
        .filter((query) => tree.ancestors(query).includes(span))
        .map((query) => String(query.attributes['db.query.text']));

    // Three products, loaded in one batch: one span, for the resolver whose load started it.
    const product = tree.one('resolve Query.product');
    expect(tree.parentOf(product)).toBe(operation);
    expect(product.attributes['graphql.field.path']).toBe('a');
    expect(sqlUnder(product)).toEqual([expect.stringMatching(/FROM "public"."product" WHERE/)]);
    // Their variants likewise.
    const variants = tree.one('resolve Product.variants');
    expect(tree.parentOf(variants)).toBe(operation);
    expect(variants.attributes['graphql.field.path']).toBe('a.variants');
    expect(sqlUnder(variants)).toEqual([expect.stringMatching(/FROM "public"."product_variant" WHERE/)]);

    // Resolvers that cannot reach the database (no context) or did not are not traced.
    expect(tree.named(/^resolve Product\.id/)).toEqual([]);
    expect(tree.named(/^resolve /)).toHaveLength(2);
    for (const query of tree.named('prisma:client:db_query')) expect(tree.ancestors(query)).toContain(operation);
  });

  it('continues the trace of an incoming traceparent', async () => {
    const { requestId } = await post(server, 'query One { products(first: 1) { nodes { title } } }', {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });
    const tree = traceOfRequest(requestId);
    const server_ = tree.one('POST /graphql');
    expect(server_.spanContext().traceId).toBe(TRACE_ID);
    expect(server_.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(tree.spans.length).toBeGreaterThan(2);
  });

  it('records nothing for a caller that did not sample its trace', async () => {
    const unsampled = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    await post(server, 'query One { products(first: 1) { nodes { title } } }', {
      headers: { traceparent: `00-${unsampled}-${PARENT_SPAN_ID}-00` },
    });
    expect(exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === unsampled)).toEqual([]);
  });

  it('puts the trace id on the log lines written during the request', async () => {
    const { requestId } = await post(server, 'query Logged { products(first: 1) { nodes { title } } }');
    const lines = logs.lines.filter((entry) => entry.req?.id === requestId);
    expect(lines.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['graphql operation', 'request completed']));
    const tree = traceOfRequest(requestId);
    const traceId = tree.one('POST /graphql').spanContext().traceId;
    for (const line of lines) {
      expect(line.trace_id).toBe(traceId);
      expect(line.trace_flags).toBe('01');
    }
    const operationLine = lines.find((entry) => entry.msg === 'graphql operation')!;
    expect(operationLine.span_id).toBe(tree.one('query Logged').spanContext().spanId);
  });

  it('records error codes on the operation span', async () => {
    const { body, requestId } = await post(server, 'query Both { product(id: "x", slug: "y") { title } }');
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const operation = traceOfRequest(requestId).one('query Both');
    expect(operation.attributes['graphql.error.codes']).toEqual(['BAD_USER_INPUT']);
    // A client's mistake is not the server's error.
    expect(operation.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('leaves probes untraced, and database work outside requests', async () => {
    await fetch(server.url.replace(/\/graphql$/, '/healthz'));
    expect((await fetch(server.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200); // SELECT 1
    await server.prisma.product.count(); // as a background job would
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('with an OTLP endpoint configured', () => {
  const received: { headers: http.IncomingHttpHeaders; body: any }[] = [];
  let collector: http.Server;
  let server: TestServer | undefined;

  beforeAll(async () => {
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') {
          received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
  });
  afterAll(async () => {
    await server?.close();
    collector.close();
  });

  it('exports the spans to the collector, at the latest when the server stops', async () => {
    const { port } = collector.address() as AddressInfo;
    server = await startTestServer({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cret%21',
        OTEL_SERVICE_NAME: 'agora-test',
      },
    });
    const { body } = await post(server, 'query Exported { products(first: 1) { totalCount } }');
    expect(body.errors).toBeUndefined();
    await server.close();
    server = undefined;

    expect(received.length).toBeGreaterThan(0);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers['x-collector-key']).toBe('s3cret!');
    const resourceSpans = received.flatMap((request) => request.body.resourceSpans);
    const serviceNames = resourceSpans.flatMap((entry: any) =>
      entry.resource.attributes.filter((a: any) => a.key === 'service.name').map((a: any) => a.value.stringValue),
    );
    expect(new Set(serviceNames)).toEqual(new Set(['agora-test']));
    const names = resourceSpans.flatMap((entry: any) =>
      entry.scopeSpans.flatMap((scope: any) => scope.spans.map((span: any) => span.name)),
    );
    expect(names).toEqual(
      expect.arrayContaining(['POST /graphql', 'query Exported', 'prisma:client:operation', 'prisma:client:db_query']),
    );
  });
});
