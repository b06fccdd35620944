// The audit log end to end over HTTP: every root mutation field a STAFF or ADMIN viewer runs becomes one row
// (who, role, operation, field, target IDs, outcome, client address, request ID), written with one INSERT per
// request before the response goes out; customers and guests leave no trace; no argument value other than an ID is
// ever stored; and admins alone read it back through auditLog(filter:), newest first, a page at a time.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLogEntry } from '../src/generated/prisma/client.js';
import { allAuditEntries, recordedBy } from './support/auditTrail.js';
import { hashPassword } from '../src/auth/passwords.js';
import { parseGlobalId, toGlobalId } from '../src/graphql/globalId.js';
import { commerce } from './support/commerce.js';
import { walkPages } from './support/paging.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

let server: TestServer;
let admin: { id: string; gid: string; token: string };
let staff: { id: string; gid: string; token: string };
let customer: { id: string; gid: string; token: string };
let shop: ReturnType<typeof commerce>;

async function signedIn(role: 'CUSTOMER' | 'STAFF' | 'ADMIN') {
  const { accountId } = await server.sessionFor(role);
  return { id: accountId, gid: toGlobalId('Account', accountId), token: await server.tokenFor(role, { accountId }) };
}

beforeAll(async () => {
  server = await startTestServer({ countStatements: true });
  shop = commerce(server);
  admin = await signedIn('ADMIN');
  staff = await signedIn('STAFF');
  customer = await signedIn('CUSTOMER');
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// Plumbing

/** Posts one operation with extra headers, returning the body and the response headers. */
async function post(
  query: string,
  variables: Record<string, unknown>,
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token && { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse, 'status' | 'headers'>;
  return { status: response.status, headers: response.headers, ...body };
}

const allEntries = () => allAuditEntries(server);
const recorded = <T>(action: () => Promise<T>) => recordedBy(server, action);

let serial = 0;
const unique = (prefix: string) => `${prefix}-${++serial}-${randomUUID().slice(0, 8)}`;

async function makeCategory() {
  const slug = unique('category');
  const category = await server.prisma.category.create({ data: { name: slug, slug } });
  return toGlobalId('Category', category.id);
}

const CREATE_PRODUCT = `mutation CreateHoodie($input: ProductCreateInput!) {
  productCreate(input: $input) { product { id } userErrors { code } } }`;
const ADJUST = `mutation Restock($input: InventoryAdjustInput!) {
  inventoryAdjust(input: $input) { productVariant { id } userErrors { code } } }`;
const STAFF_CREATE = `mutation Invite($input: StaffCreateInput!) {
  staffCreate(input: $input) { account { id } userErrors { code } } }`;
const ROLE_UPDATE = `mutation Promote($input: AccountRoleUpdateInput!) {
  accountRoleUpdate(input: $input) { account { id } userErrors { code } } }`;

/** A row as the database holds it, for the fields every test checks. */
const row = (fields: Partial<AuditLogEntry>) => ({
  id: expect.any(String),
  actorId: staff.id,
  actorRole: 'STAFF',
  operationName: null,
  targetIds: [],
  errorCodes: [],
  clientAddress: expect.stringMatching(/127\.0\.0\.1$/),
  requestId: expect.any(String),
  createdAt: expect.any(Date),
  ...fields,
});

const denial = (code: 'FORBIDDEN' | 'UNAUTHENTICATED', path: string[]) => ({
  message: code === 'FORBIDDEN' ? 'You are not allowed to do this.' : 'You must be signed in to do this.',
  locations: [{ line: expect.any(Number), column: expect.any(Number) }],
  path,
  extensions: { code },
});

// ---------------------------------------------------------------------------------------------------------------

describe('what a staff mutation records', () => {
  it('a success: actor, role, operation, field, the input and payload IDs, SUCCEEDED, address and request ID', async () => {
    const categoryId = await makeCategory();
    const { result: res, rows } = await recorded(() =>
      post(
        CREATE_PRODUCT,
        { input: { title: unique('Hoodie'), categoryIds: [categoryId], variants: [{ sku: unique('H'), price: '5' }] } },
        staff.token,
      ),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.productCreate.userErrors).toEqual([]);
    const productId = res.data.productCreate.product.id;
    expect(rows).toEqual([
      row({
        operationName: 'CreateHoodie',
        mutation: 'productCreate',
        targetIds: [categoryId, productId],
        outcome: 'SUCCEEDED',
        requestId: res.headers.get('x-request-id'),
      }),
    ]);
    expect(res.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
  });

  it("takes the payload's object from the result even when the client did not select it", async () => {
    const title = unique('Unselected');
    const { result: res, rows } = await recorded(() =>
      post(
        'mutation ($input: ProductCreateInput!) { productCreate(input: $input) { userErrors { code } } }',
        { input: { title } },
        staff.token,
      ),
    );
    expect(res.errors).toBeUndefined();
    const product = await server.prisma.product.findFirstOrThrow({ where: { title } });
    expect(rows).toEqual([
      row({ mutation: 'productCreate', targetIds: [toGlobalId('Product', product.id)], outcome: 'SUCCEEDED' }),
    ]);
  });

  it('keeps the request ID the client sent in x-request-id', async () => {
    const variantId = (await shop.variant({ stock: 10 })).gid;
    const { result: res, rows } = await recorded(() =>
      post(ADJUST, { input: { variantId, delta: 1, reason: 'delivery' } }, staff.token, {
        'x-request-id': 'audit-trace-42',
      }),
    );
    expect(res.headers.get('x-request-id')).toBe('audit-trace-42');
    expect(rows).toEqual([
      row({
        operationName: 'Restock',
        mutation: 'inventoryAdjust',
        targetIds: [variantId],
        outcome: 'SUCCEEDED',
        requestId: 'audit-trace-42',
      }),
    ]);
  });

  it('user errors in the payload: REJECTED, with the IDs of the input', async () => {
    const unknown = toGlobalId('ProductVariant', randomUUID());
    const { result: res, rows } = await recorded(() =>
      post(ADJUST, { input: { variantId: unknown, delta: 1, reason: 'delivery' } }, staff.token),
    );
    expect(res.data.inventoryAdjust).toEqual({ productVariant: null, userErrors: [{ code: 'NOT_FOUND' }] });
    expect(rows).toEqual([
      row({ operationName: 'Restock', mutation: 'inventoryAdjust', targetIds: [unknown], outcome: 'REJECTED' }),
    ]);
  });

  it.each([
    {
      name: 'staffCreate',
      document: STAFF_CREATE,
      input: () => ({ email: `${unique('invitee')}@example.test`, firstName: 'A', lastName: 'B', role: 'STAFF' }),
      targetIds: () => [],
    },
    {
      name: 'accountRoleUpdate',
      document: ROLE_UPDATE,
      input: () => ({ accountId: customer.gid, role: 'ADMIN' }),
      targetIds: () => [customer.gid],
    },
  ])(
    'a member of staff calling the admin-only $name: FAILED with FORBIDDEN, and the response is unchanged',
    async ({ name, document, input, targetIds }) => {
      const { result: res, rows } = await recorded(() => post(document, { input: input() }, staff.token));
      expect(res.data).toBeNull();
      expect(res.errors).toEqual([denial('FORBIDDEN', [name])]);
      expect(rows).toEqual([
        row({
          operationName: name === 'staffCreate' ? 'Invite' : 'Promote',
          mutation: name,
          targetIds: targetIds(),
          outcome: 'FAILED',
          errorCodes: ['FORBIDDEN'],
        }),
      ]);
    },
  );

  it('an admin: role ADMIN, and the new account of staffCreate as the target', async () => {
    const email = `${unique('newstaff')}@example.test`;
    const { result: res, rows } = await recorded(() =>
      post(STAFF_CREATE, { input: { email, firstName: 'New', lastName: 'Staff', role: 'STAFF' } }, admin.token),
    );
    expect(res.errors).toBeUndefined();
    const created = await server.prisma.account.findUniqueOrThrow({ where: { email } });
    expect(res.data.staffCreate.account.id).toBe(toGlobalId('Account', created.id));
    expect(rows).toEqual([
      row({
        actorId: admin.id,
        actorRole: 'ADMIN',
        operationName: 'Invite',
        mutation: 'staffCreate',
        targetIds: [toGlobalId('Account', created.id)],
        outcome: 'SUCCEEDED',
      }),
    ]);
  });

  it('several fields in one request: one row each, in order, written with a single INSERT', async () => {
    const variantId = (await shop.variant({ stock: 5 })).gid;
    const unknown = toGlobalId('ProductVariant', randomUUID());
    const document = `mutation Batch($ok: InventoryAdjustInput!, $missing: InventoryAdjustInput!) {
      first: inventoryAdjust(input: $ok) { userErrors { code } }
      second: inventoryAdjust(input: $missing) { userErrors { code } }
      third: inventoryAdjust(input: $ok) { userErrors { code } }
    }`;
    server.statements!.reset();
    const { result: res, rows } = await recorded(() =>
      post(
        document,
        {
          ok: { variantId, delta: -1, reason: 'sale' },
          missing: { variantId: unknown, delta: -1, reason: 'sale' },
        },
        staff.token,
      ),
    );
    const inserts = server
      .statements!.statements()
      .filter((sql) => /^\s*INSERT\s+INTO\b[^(]*audit_log_entry/i.test(sql));
    expect(res.errors).toBeUndefined();
    const requestId = res.headers.get('x-request-id');
    expect(rows).toEqual([
      row({
        operationName: 'Batch',
        mutation: 'inventoryAdjust',
        targetIds: [variantId],
        outcome: 'SUCCEEDED',
        requestId,
      }),
      row({
        operationName: 'Batch',
        mutation: 'inventoryAdjust',
        targetIds: [unknown],
        outcome: 'REJECTED',
        requestId,
      }),
      row({
        operationName: 'Batch',
        mutation: 'inventoryAdjust',
        targetIds: [variantId],
        outcome: 'SUCCEEDED',
        requestId,
      }),
    ]);
    expect(inserts).toHaveLength(1);
  });

  it('the response waits for the write', async () => {
    const variantId = (await shop.variant({ stock: 3 })).gid;
    // every INSERT into the table now takes 400 ms longer
    await server.prisma.$executeRawUnsafe(
      'CREATE FUNCTION audit_slow_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN NULL; END $$',
    );
    await server.prisma.$executeRawUnsafe(
      'CREATE TRIGGER audit_slow_write AFTER INSERT ON audit_log_entry EXECUTE FUNCTION audit_slow_write()',
    );
    try {
      const started = performance.now();
      const res = await post(ADJUST, { input: { variantId, delta: 1, reason: 'delivery' } }, staff.token);
      const elapsed = performance.now() - started;
      expect(res.errors).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(400);
    } finally {
      await server.prisma.$executeRawUnsafe('DROP TRIGGER audit_slow_write ON audit_log_entry');
      await server.prisma.$executeRawUnsafe('DROP FUNCTION audit_slow_write()');
    }
  });

  it("a write that fails does not turn the mutation's answer into an error", async () => {
    const variantId = (await shop.variant({ stock: 3 })).gid;
    await server.prisma.$executeRawUnsafe('ALTER TABLE audit_log_entry RENAME TO audit_log_entry_away');
    let res: GraphQLResponse;
    try {
      res = await post(ADJUST, { input: { variantId, delta: 2, reason: 'delivery' } }, staff.token);
    } finally {
      await server.prisma.$executeRawUnsafe('ALTER TABLE audit_log_entry_away RENAME TO audit_log_entry');
    }
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data.inventoryAdjust).toEqual({ productVariant: { id: variantId }, userErrors: [] });
    // and the stock really changed
    const variant = await server.prisma.productVariant.findUniqueOrThrow({
      where: { id: parseGlobalId(variantId)!.id },
    });
    expect(variant.stockOnHand).toBe(5);
    // the next request is recorded again
    const { rows } = await recorded(() =>
      post(ADJUST, { input: { variantId, delta: 1, reason: 'delivery' } }, staff.token),
    );
    expect(rows).toEqual([
      row({ operationName: 'Restock', mutation: 'inventoryAdjust', targetIds: [variantId], outcome: 'SUCCEEDED' }),
    ]);
  });
});

describe('what is not recorded', () => {
  it("customers' and guests' mutations, allowed or refused, and staff queries", async () => {
    const variantId = (await shop.variant({ stock: 10 })).gid;
    const { rows } = await recorded(async () => {
      const calls = [
        post('mutation { customerUpdate(input: { firstName: "Ada" }) { userErrors { code } } }', {}, customer.token),
        post('mutation { cartCreate(input: {}) { cart { id } userErrors { code } } }', {}, customer.token),
        post('mutation { cartCreate(input: {}) { cart { id } userErrors { code } } }', {}),
        post(ADJUST, { input: { variantId, delta: 1, reason: 'x' } }, customer.token),
        post(ADJUST, { input: { variantId, delta: 1, reason: 'x' } }),
        post('{ lowStockVariants(threshold: 1, first: 1) { totalCount } }', {}, staff.token),
      ];
      const responses = [];
      for (const call of calls) responses.push(await call);
      return responses;
    });
    expect(rows).toEqual([]);
  });
});

describe('secrets', () => {
  it('passwords, tokens, card tokens and other argument values never reach the table', async () => {
    const password = 'Plum-Orchard-Lantern-7319';
    const newPassword = 'Quartz-Meadow-Harbor-4826';
    const resetToken = `reset-${randomUUID()}`;
    const refreshToken = `refresh-${randomUUID()}`;
    const cardToken = `tok_visa`;
    const idempotencyKey = `idem-${randomUUID()}`;
    const email = `${unique('secretive')}@example.test`;
    const inviteEmail = `${unique('invited')}@example.test`;
    const member = await server.prisma.account.create({
      data: { email, firstName: 'Sec', lastName: 'Ret', role: 'STAFF', passwordHash: await hashPassword(password) },
    });
    const memberToken = await server.tokenFor('STAFF', { accountId: member.id });
    const memberGid = toGlobalId('Account', member.id);
    const unknownCart = toGlobalId('Cart', randomUUID());

    const { result, rows } = await recorded(async () => ({
      invite: await post(
        STAFF_CREATE,
        { input: { email: inviteEmail, firstName: 'Invited', lastName: 'Person', role: 'STAFF' } },
        admin.token,
      ),
      logIn: await post(
        'mutation ($input: LogInInput!) { logIn(input: $input) { tokens { accessToken } userErrors { code } } }',
        { input: { email, password } },
        memberToken,
      ),
      change: await post(
        'mutation ($input: PasswordChangeInput!) { passwordChange(input: $input) { account { id } userErrors { code } } }',
        { input: { currentPassword: password, newPassword } },
        memberToken,
      ),
      reset: await post(
        'mutation ($input: PasswordResetInput!) { passwordReset(input: $input) { success userErrors { code } } }',
        { input: { token: resetToken, newPassword } },
        memberToken,
      ),
      refresh: await post(
        'mutation ($input: TokenRefreshInput!) { tokenRefresh(input: $input) { userErrors { code } } }',
        { input: { refreshToken } },
        memberToken,
      ),
      checkout: await post(
        `mutation ($input: CheckoutCompleteInput!) {
          checkoutComplete(input: $input) { order { id } userErrors { code } } }`,
        { input: { cartId: unknownCart, payment: { provider: 'sandbox', token: cardToken }, idempotencyKey } },
        memberToken,
      ),
    }));

    // each call did what it should, so each row below stands for a real attempt
    expect(result.invite.data.staffCreate.userErrors).toEqual([]);
    expect(result.logIn.data.logIn.userErrors).toEqual([]);
    expect(result.logIn.data.logIn.tokens.accessToken).toEqual(expect.any(String));
    expect(result.change.data.passwordChange).toEqual({ account: { id: memberGid }, userErrors: [] });
    expect(result.reset.data.passwordReset.userErrors).toEqual([{ code: 'INVALID_TOKEN' }]);
    expect(result.refresh.data.tokenRefresh.userErrors).toEqual([{ code: 'INVALID_TOKEN' }]);
    expect(result.checkout.data.checkoutComplete.userErrors).toEqual([{ code: 'NOT_FOUND' }]);

    const invited = await server.prisma.account.findUniqueOrThrow({ where: { email: inviteEmail } });
    const byMember = { actorId: member.id, operationName: null };
    expect(rows).toEqual([
      row({
        actorId: admin.id,
        actorRole: 'ADMIN',
        operationName: 'Invite',
        mutation: 'staffCreate',
        targetIds: [toGlobalId('Account', invited.id)],
        outcome: 'SUCCEEDED',
      }),
      row({ ...byMember, mutation: 'logIn', targetIds: [memberGid], outcome: 'SUCCEEDED' }),
      row({ ...byMember, mutation: 'passwordChange', targetIds: [memberGid], outcome: 'SUCCEEDED' }),
      row({ ...byMember, mutation: 'passwordReset', outcome: 'REJECTED' }),
      row({ ...byMember, mutation: 'tokenRefresh', outcome: 'REJECTED' }),
      row({ ...byMember, mutation: 'checkoutComplete', targetIds: [unknownCart], outcome: 'REJECTED' }),
    ]);

    const stored = JSON.stringify(rows);
    const secrets = [
      password,
      newPassword,
      resetToken,
      refreshToken,
      cardToken,
      idempotencyKey,
      email,
      inviteEmail,
      'Invited',
      'sandbox',
      result.logIn.data.logIn.tokens.accessToken,
    ];
    expect(secrets.filter((secret) => stored.includes(secret))).toEqual([]);
    // and, in the table itself, every stored string is either an ID, a name from the schema or request metadata
    const raw = await server.prisma.$queryRawUnsafe<{ row: string }[]>(
      `SELECT row_to_json(a)::text AS row FROM audit_log_entry a WHERE id = ANY($1::uuid[])`,
      rows.map((r) => r.id),
    );
    expect(raw).toHaveLength(rows.length);
    expect(raw.map((r) => r.row).filter((text) => secrets.some((secret) => text.includes(secret)))).toEqual([]);
    for (const entry of rows) for (const id of entry.targetIds) expect(parseGlobalId(id)).not.toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------------

const ENTRY_FIELDS = `id actorId actor { id } actorRole operationName mutation targetIds outcome errorCodes
  clientAddress requestId createdAt`;
const AUDIT_LOG = `query ($first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } nodes { ${ENTRY_FIELDS} }
  }
}`;

/** A row as auditLog shows it. */
const asNode = (entry: AuditLogEntry) => ({
  id: toGlobalId('AuditLogEntry', entry.id),
  actorId: toGlobalId('Account', entry.actorId),
  actor: { id: toGlobalId('Account', entry.actorId) },
  actorRole: entry.actorRole,
  operationName: entry.operationName,
  mutation: entry.mutation,
  targetIds: entry.targetIds,
  outcome: entry.outcome,
  errorCodes: entry.errorCodes,
  clientAddress: entry.clientAddress,
  requestId: entry.requestId,
  createdAt: entry.createdAt.toISOString(),
});

/** The rows matching `where`, newest first, as auditLog should list them. */
const newestFirst = async (where: (entry: AuditLogEntry) => boolean = () => true) =>
  (await allEntries()).filter(where).reverse().map(asNode);

async function auditLog(variables: Record<string, unknown>, token = admin.token) {
  const res = await server.gql(AUDIT_LOG, variables, token);
  expect(res.errors).toBeUndefined();
  return res.data.auditLog;
}

/** Walks every page in one direction, checking sizes, flags and totals on the way. */
const walk = (direction: 'forward' | 'backward', filter: Record<string, unknown> | null, total: number) =>
  walkPages(direction, 3, total, (page) => auditLog({ ...page, filter }));

describe('auditLog', () => {
  let lister: { id: string; gid: string; token: string };

  beforeAll(async () => {
    // A member of staff of its own, with a known history: 3 successes, 2 rejections, 2 failures.
    lister = await signedIn('STAFF');
    const variantId = (await shop.variant({ stock: 100 })).gid;
    const unknown = toGlobalId('ProductVariant', randomUUID());
    for (const input of [
      { variantId, delta: -1, reason: 'a' },
      { variantId: unknown, delta: -1, reason: 'b' },
      { variantId, delta: -1, reason: 'c' },
    ]) {
      await post(ADJUST, { input }, lister.token);
    }
    await post(
      STAFF_CREATE,
      { input: { email: 'x@example.test', firstName: 'X', lastName: 'Y', role: 'STAFF' } },
      lister.token,
    );
    await post(ADJUST, { input: { variantId: unknown, delta: 1, reason: 'd' } }, lister.token);
    await post(ROLE_UPDATE, { input: { accountId: customer.gid, role: 'STAFF' } }, lister.token);
    await post(ADJUST, { input: { variantId, delta: 1, reason: 'e' } }, lister.token);
  });

  it('lists every entry newest first, forwards and backwards, in pages without gaps', async () => {
    const expected = await newestFirst();
    expect(expected.length).toBeGreaterThan(10);
    expect(await walk('forward', null, expected.length)).toEqual(expected);
    expect(await walk('backward', null, expected.length)).toEqual(expected);
  });

  const filters: { name: string; filter: () => Record<string, unknown>; where: (e: AuditLogEntry) => boolean }[] = [
    { name: 'actorId', filter: () => ({ actorId: lister.gid }), where: (e) => e.actorId === lister.id },
    { name: 'mutation', filter: () => ({ mutation: 'staffCreate' }), where: (e) => e.mutation === 'staffCreate' },
    { name: 'outcome', filter: () => ({ outcome: 'REJECTED' }), where: (e) => e.outcome === 'REJECTED' },
    {
      name: 'actorId and outcome together',
      filter: () => ({ actorId: lister.gid, outcome: 'FAILED' }),
      where: (e) => e.actorId === lister.id && e.outcome === 'FAILED',
    },
  ];

  it.each(filters)('filters by $name', async ({ filter, where }) => {
    const all = await allEntries();
    const expected = await newestFirst(where);
    // the filter must leave some entries in and some out, or the test would prove nothing
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(await walk('forward', filter(), expected.length)).toEqual(expected);
  });

  it("the lister's own history is exactly what it did, newest first", async () => {
    const page = await auditLog({ first: 100, filter: { actorId: lister.gid } });
    expect(page.nodes.map((node: any) => [node.mutation, node.outcome, node.errorCodes])).toEqual([
      ['inventoryAdjust', 'SUCCEEDED', []],
      ['accountRoleUpdate', 'FAILED', ['FORBIDDEN']],
      ['inventoryAdjust', 'REJECTED', []],
      ['staffCreate', 'FAILED', ['FORBIDDEN']],
      ['inventoryAdjust', 'SUCCEEDED', []],
      ['inventoryAdjust', 'REJECTED', []],
      ['inventoryAdjust', 'SUCCEEDED', []],
    ]);
    expect(page.nodes.every((node: any) => node.actorRole === 'STAFF' && node.actor.id === lister.gid)).toBe(true);
  });

  it('filters by since (inclusive) and until (exclusive)', async () => {
    const all = await allEntries();
    // boundaries taken from the rows themselves, so that each condition leaves some rows out
    const since = all.find((entry) => entry.createdAt > all[0]!.createdAt)!.createdAt;
    const until = all.at(-1)!.createdAt;
    const cases = [
      { filter: { since: since.toISOString() }, where: (e: AuditLogEntry) => e.createdAt >= since },
      { filter: { until: until.toISOString() }, where: (e: AuditLogEntry) => e.createdAt < until },
      {
        filter: { since: since.toISOString(), until: until.toISOString() },
        where: (e: AuditLogEntry) => e.createdAt >= since && e.createdAt < until,
      },
    ];
    for (const { filter, where } of cases) {
      const expected = await newestFirst(where);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(all.length);
      expect(await walk('forward', filter, expected.length)).toEqual(expected);
    }
  });

  it('an actorId that is no account matches nothing', async () => {
    const page = await auditLog({ first: 5, filter: { actorId: toGlobalId('Product', randomUUID()) } });
    expect(page).toMatchObject({ totalCount: 0, nodes: [], edges: [] });
  });

  it('caps the page size and refuses foreign cursors with BAD_USER_INPUT', async () => {
    const tooMany = await server.gql(AUDIT_LOG, { first: 101 }, admin.token);
    expect(tooMany.data).toBeNull();
    expect(tooMany.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['BAD_USER_INPUT', '`first` is 101, above the maximum page size of 100.'],
    ]);
    const foreign = await server.gql(AUDIT_LOG, { first: 1, after: 'bm90LWEtY3Vyc29y' }, admin.token);
    expect(foreign.data).toBeNull();
    expect(foreign.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it.each([
    { viewer: 'a member of staff', token: (): string | undefined => staff.token, code: 'FORBIDDEN' as const },
    { viewer: 'a customer', token: (): string | undefined => customer.token, code: 'FORBIDDEN' as const },
    { viewer: 'an anonymous visitor', token: (): string | undefined => undefined, code: 'UNAUTHENTICATED' as const },
  ])('is refused to $viewer with $code', async ({ token, code }) => {
    const res = await server.gql(AUDIT_LOG, { first: 5 }, token());
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([denial(code, ['auditLog'])]);
  });
});
