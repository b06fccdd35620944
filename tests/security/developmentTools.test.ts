// The tools developers point at a development server work: Apollo Sandbox's and graphql-codegen's full
// introspection query passes the limits, graphql-codegen generates types from the running server, and graphql-http's
// GraphQL-over-HTTP audit finds no error. Production keeps introspection off (everyTransport.test.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { post } from './support.js';
import { TRANSPORTS } from './transports.js';

let server: TestServer;

beforeAll(async () => {
  // Development defaults, with the anonymous bucket a developer's browser gets.
  server = await startTestServer({
    env: { NODE_ENV: 'development', RATE_LIMIT_ANONYMOUS: '1000/50', WEBSOCKET_OPERATIONS: 'all' },
  });
});
afterAll(async () => {
  await server?.close();
});

/** The introspection query Apollo Sandbox sends (every option on), as graphql-js prints it. */
const SANDBOX_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});

describe('in development', () => {
  it("answers Apollo Sandbox's full introspection query, at a small cost, again and again", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await post(server, { query: SANDBOX_INTROSPECTION, operationName: 'IntrospectionQuery' });
      expect(res.body.errors, res.text.slice(0, 500)).toBeUndefined();
      expect(res.body.extensions.cost.requestedQueryCost).toBeLessThanOrEqual(10);
      const schema = buildClientSchema(res.body.data);
      expect(schema.getQueryType()?.getFields()).toHaveProperty('products');
      expect(printSchema(schema)).toContain('type Product implements Node');
    }
  });

  it('lets graphql-codegen generate types by introspecting the running server', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agora-codegen-'));
    try {
      const out = path.join(dir, 'types.ts');
      await generate({ schema: server.url, generates: { [out]: { plugins: ['typescript'] } }, silent: true }, true);
      const types = readFileSync(out, 'utf8');
      expect(types).toContain('export type Product = ');
      expect(types).toContain('export type Mutation = ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes graphql-http's GraphQL-over-HTTP audit with no error", async () => {
    const results = await auditServer({ url: server.url });
    const errors = results.filter((result) => result.status === 'error');
    expect(errors.map((result) => `${result.name}: ${'reason' in result ? result.reason : ''}`)).toEqual([]);
  });
});

describe('circular introspection in development (graphql-cop)', () => {
  it.each(TRANSPORTS)('is refused over %s by the introspection depth rule', async (_, transport) => {
    const outcome = await transport(server, {
      query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    });
    expect(outcome.data).toBeUndefined();
    expect(outcome.errors, outcome.text).toEqual([
      expect.objectContaining({
        message: 'Maximum introspection depth exceeded',
        extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
      }),
    ]);
  });
});
