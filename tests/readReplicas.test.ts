// DATABASE_REPLICA_URLS: reads outside transactions go to a replica; writes, transactions and raw SQL go to the
// primary. The "replica" here is a second migrated database holding different catalog data, so every answer shows
// which database it came from. (Real replication would copy the primary; here the difference is the point.)
// Both kinds of database can host this: two PGlite instances, or two databases on the PostgreSQL server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../src/db/client.js';
import { onPrimary, onReplica } from '../src/db/replicas.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let primaryDb: TestDatabase;
let replicaDb: TestDatabase;
let server: TestServer;
/** The server's own primary client, and a client of the replica, to arrange and inspect each database's rows. An
 * embedded (PGlite) database takes two connections, so the test opens no more than it needs. */
let primary: PrismaClient;
let replica: PrismaClient;
let staff: string;

const PRODUCT_ID = '01900000-0000-7000-8000-000000000001';
const PARENT_ID = '01900000-0000-7000-8000-000000000002';
const CHILD_ID = '01900000-0000-7000-8000-000000000003';

/** The same rows in both databases, but for the product's title and the category tree. */
async function arrange(client: PrismaClient, side: 'primary' | 'replica') {
  await client.product.create({ data: { id: PRODUCT_ID, title: `Lamp on the ${side}`, slug: 'lamp' } });
  await client.category.create({ data: { id: PARENT_ID, name: 'Home', slug: 'home' } });
  // On the primary Lighting sits under Home; the replica has not caught up and still shows it at the top level.
  await client.category.create({
    data: { id: CHILD_ID, name: 'Lighting', slug: 'lighting', parentId: side === 'primary' ? PARENT_ID : null },
  });
}

/** A staff token whose account and session are in both databases, as replication would have copied them (the
 * server looks the session up with a read, which goes to the replica). */
async function staffToken(): Promise<string> {
  const token = await server.tokenFor('STAFF');
  const { account, ...session } = await primary.session.findFirstOrThrow({
    orderBy: { createdAt: 'desc' },
    include: { account: true },
  });
  await replica.account.create({ data: account });
  await replica.session.create({ data: session });
  return token;
}

beforeAll(async () => {
  [primaryDb, replicaDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  replica = createPrismaClient(replicaDb.url, 1);
  await arrange(replica, 'replica');
  server = await startTestServer({ database: primaryDb, env: { DATABASE_REPLICA_URLS: replicaDb.url } });
  primary = onPrimary(server.prisma);
  await arrange(primary, 'primary');
  staff = await staffToken();
});
afterAll(async () => {
  await server?.close();
  await replica?.$disconnect();
  await primaryDb?.drop();
  await replicaDb?.drop();
});

describe('the database client with DATABASE_REPLICA_URLS', () => {
  const title = async (client: Pick<PrismaClient, 'product'>) =>
    (await client.product.findUniqueOrThrow({ where: { id: PRODUCT_ID } })).title;

  it('reads from the replica outside transactions', async () => {
    expect(await title(server.prisma)).toBe('Lamp on the replica');
    expect(await server.prisma.product.count({ where: { title: { contains: 'replica' } } })).toBe(1);
    expect(primary).not.toBe(server.prisma);
  });

  it('reads from the primary inside a transaction, with raw SQL, and through onPrimary', async () => {
    expect(await server.prisma.$transaction((tx) => title(tx))).toBe('Lamp on the primary');
    const [row] = await server.prisma.$queryRaw<{ title: string }[]>`SELECT title FROM product`;
    expect(row?.title).toBe('Lamp on the primary');
    expect(await title(primary)).toBe('Lamp on the primary');
  });

  it('sends a read-only raw query to a replica when asked (onReplica)', async () => {
    const [row] = await onReplica(server.prisma).$queryRaw<{ title: string }[]>`SELECT title FROM product`;
    expect(row?.title).toBe('Lamp on the replica');
    expect(onReplica(primary)).toBe(primary); // a client without replicas: itself
  });

  it('writes to the primary', async () => {
    await server.prisma.category.update({ where: { id: PARENT_ID }, data: { description: 'written' } });
    expect((await primary.category.findUniqueOrThrow({ where: { id: PARENT_ID } })).description).toBe('written');
    expect((await replica.category.findUniqueOrThrow({ where: { id: PARENT_ID } })).description).toBe('');
  });
});

describe('the server with DATABASE_REPLICA_URLS', () => {
  const PRODUCT = 'query ($id: ID!) { product(id: $id) { title } }';

  it('answers a catalog query from the replica', async () => {
    const res = await server.gql(PRODUCT, { id: toGlobalId('Product', PRODUCT_ID) });
    expect(res.data).toEqual({ product: { title: 'Lamp on the replica' } });
  });

  it('writes a mutation to the primary', async () => {
    const res = await server.gql(
      'mutation ($id: ID!) { productUpdate(input: { id: $id, title: "Desk lamp" }) { userErrors { code } } }',
      { id: toGlobalId('Product', PRODUCT_ID) },
      staff,
    );
    expect(res.data).toEqual({ productUpdate: { userErrors: [] } });
    expect((await primary.product.findUniqueOrThrow({ where: { id: PRODUCT_ID } })).title).toBe('Desk lamp');
    expect((await replica.product.findUniqueOrThrow({ where: { id: PRODUCT_ID } })).title).toBe('Lamp on the replica');
  });

  it("decides a staff edit's transaction on the primary's rows", async () => {
    // Moving Home under Lighting closes a cycle on the primary, where Lighting is Home's child. Read from the
    // replica, the move would look fine and be written to the primary as a cycle.
    const res = await server.gql(
      'mutation ($id: ID!, $parentId: ID) { categoryUpdate(input: { id: $id, parentId: $parentId }) { category { id } userErrors { field code } } }',
      { id: toGlobalId('Category', PARENT_ID), parentId: toGlobalId('Category', CHILD_ID) },
      staff,
    );
    expect(res.data).toEqual({
      categoryUpdate: { category: null, userErrors: [{ field: ['input', 'parentId'], code: 'INVALID' }] },
    });
    expect((await primary.category.findUniqueOrThrow({ where: { id: PARENT_ID } })).parentId).toBeNull();
  });
});
