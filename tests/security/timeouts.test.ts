// Operations that would hold the server: a statement stuck behind a lock is cancelled by PostgreSQL's
// statement_timeout (STATEMENT_TIMEOUT_MS), and an operation past OPERATION_TIMEOUT_MS resolves no further field.
// Either way the client gets one OPERATION_TIMEOUT error, quickly, over HTTP or WebSocket, and the server goes on
// answering. Locks are held
// from a connection of the test's own, which needs a real PostgreSQL server: PGlite serves one connection and
// cannot cancel a statement.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/graphql/globalId.js';
import { withDatabase } from '../support/globalSetup.js';
import type { TestServer } from '../support/testServer.js';
import { expectNoLeak, gql, seedSmallCatalog, sleep, startProductionServer, uuid } from './support.js';
import { TRANSPORTS } from './transports.js';

const realPostgres = Boolean(process.env.DATABASE_URL);

/** A connection to the server's own database, beside the server's pool. */
async function connectBeside(server: TestServer): Promise<pg.Client> {
  const [{ name }] = await server.prisma.$queryRaw<[{ name: string }]>`SELECT current_database() AS name`;
  const client = new pg.Client({ connectionString: withDatabase(process.env.DATABASE_URL!, name) });
  await client.connect();
  return client;
}

describe.runIf(realPostgres)('STATEMENT_TIMEOUT_MS', () => {
  let server: TestServer;
  let locker: pg.Client;
  let staff: string;

  beforeAll(async () => {
    server = await startProductionServer({ STATEMENT_TIMEOUT_MS: '300', WEBSOCKET_OPERATIONS: 'all' });
    await seedSmallCatalog(server.prisma);
    staff = await server.tokenFor('STAFF');
    locker = await connectBeside(server);
  });
  afterAll(async () => {
    await locker?.end();
    await server?.close();
  });

  const ADJUST = `mutation ($input: InventoryAdjustInput!) {
    inventoryAdjust(input: $input) { productVariant { inventory { onHand } } userErrors { code } }
  }`;
  const stock = async () =>
    (await server.prisma.productVariant.findUniqueOrThrow({ where: { id: uuid(11) } })).stockOnHand;

  // GET refuses mutations for a reason of its own.
  it.each(TRANSPORTS.filter(([name]) => name !== 'HTTP GET'))(
    'cancels a statement waiting on a row lock, answers OPERATION_TIMEOUT over %s, and keeps serving',
    async (_, transport) => {
      const adjust = () =>
        transport(
          server,
          {
            query: ADJUST,
            variables: { input: { variantId: toGlobalId('ProductVariant', uuid(11)), delta: 5, reason: 'delivery' } },
          },
          staff,
        );
      const before = await stock();
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM product_variant WHERE id = $1 FOR UPDATE', [uuid(11)]);
      try {
        const started = performance.now();
        const res = await adjust();
        expect(performance.now() - started).toBeLessThan(2000);
        if (res.status !== undefined) expect(res.status, res.text).toBe(200);
        expect(res.data, res.text).toBeNull();
        expect(res.errors).toEqual([
          {
            message: 'A database query of this operation took too long and was cancelled.',
            locations: expect.any(Array),
            path: ['inventoryAdjust'],
            extensions: { code: 'OPERATION_TIMEOUT' },
          },
        ]);
        expectNoLeak(res.text);
      } finally {
        await locker.query('ROLLBACK');
      }
      // the cancelled change left nothing behind, and the same change goes through once the lock is gone
      expect(await stock()).toBe(before);
      const res = await adjust();
      expect(res.errors, res.text).toBeUndefined();
      expect(res.data).toEqual({
        inventoryAdjust: { productVariant: { inventory: { onHand: before + 5 } }, userErrors: [] },
      });
    },
  );
});

describe.runIf(realPostgres)('OPERATION_TIMEOUT_MS', () => {
  let server: TestServer;
  let locker: pg.Client;

  beforeAll(async () => {
    server = await startProductionServer({
      OPERATION_TIMEOUT_MS: '200',
      STATEMENT_TIMEOUT_MS: '0',
      WEBSOCKET_OPERATIONS: 'all',
    });
    await seedSmallCatalog(server.prisma);
    locker = await connectBeside(server);
  });
  afterAll(async () => {
    await locker?.end();
    await server?.close();
  });

  it.each(TRANSPORTS)(
    'stops resolving past the limit with one OPERATION_TIMEOUT error over %s, and keeps serving',
    async (_, transport) => {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE product IN ACCESS EXCLUSIVE MODE');
      // the read waits behind the lock for 600 ms, three times the limit; nothing cancels it meanwhile
      const answer = transport(server, {
        query: '{ products(first: 3) { totalCount nodes { id title variants { sku } } } }',
      });
      await sleep(600);
      await locker.query('ROLLBACK');
      const res = await answer;
      if (res.status !== undefined) expect(res.status, res.text).toBe(200);
      expect(res.data, res.text).toBeNull();
      expect(res.errors).toEqual([
        {
          message: 'The operation took longer than the limit of 200 ms and was stopped.',
          locations: expect.any(Array),
          path: expect.arrayContaining(['products']),
          extensions: { code: 'OPERATION_TIMEOUT', maximum: 200 },
        },
      ]);
      expectNoLeak(res.text);

      const after = await gql(server, '{ products(first: 3) { nodes { title } } }');
      expect(after.status).toBe(200);
      expect(after.body.data.products.nodes).toHaveLength(3);
    },
  );
});
