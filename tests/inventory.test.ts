// Inventory end to end over HTTP: stock levels and the ledger on variants (staff only), inventoryAdjust and
// inventorySet with every refusal, the "initial stock" entry of the catalog mutations, lowStockVariants, and
// concurrent changes that must neither oversell nor lose an update. Every change is checked in the database too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseIdOf, toGlobalId } from '../src/graphql/globalId.js';
import { catalogState } from './support/catalogState.js';
import { commerce } from './support/commerce.js';
import { walkPages } from './support/paging.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

let server: TestServer;
let staff: string;
let staffId: string;
let staffGid: string;
let customer: string;
let shop: ReturnType<typeof commerce>;

beforeAll(async () => {
  server = await startTestServer();
  staffId = (await server.sessionFor('STAFF')).accountId;
  staffGid = toGlobalId('Account', staffId);
  staff = await server.tokenFor('STAFF', { accountId: staffId });
  customer = await server.tokenFor('CUSTOMER');
  shop = commerce(server);
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL documents and plumbing

const LEVEL = 'inventory { onHand reserved available }';
const VARIANT = `id sku availableForSale ${LEVEL}`;
const CHANGE = 'reason before after delta createdAt changedBy { id }';
const PAGE_INFO = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const USER_ERRORS = 'userErrors { field message code }';

const MUTATIONS = {
  inventoryAdjust: `mutation ($input: InventoryAdjustInput!) {
    inventoryAdjust(input: $input) { productVariant { ${VARIANT} } ${USER_ERRORS} } }`,
  inventorySet: `mutation ($input: InventorySetInput!) {
    inventorySet(input: $input) { productVariant { ${VARIANT} } ${USER_ERRORS} } }`,
};
type MutationName = keyof typeof MUTATIONS;
type Input = Record<string, unknown>;

const HISTORY = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on ProductVariant {
    inventoryHistory(first: $first, after: $after, last: $last, before: $before) {
      totalCount ${PAGE_INFO} edges { cursor } nodes { ${CHANGE} }
    }
  } }
}`;

const LOW_STOCK = `query ($threshold: Int!, $first: Int, $after: String, $last: Int, $before: String) {
  lowStockVariants(threshold: $threshold, first: $first, after: $after, last: $last, before: $before) {
    totalCount ${PAGE_INFO} edges { cursor } nodes { id inventory { available } }
  }
}`;

/** Sends a change as `token`'s bearer (staff by default), or anonymously with null. */
const mutate = (name: MutationName, input: Input, token: string | null = staff): Promise<GraphQLResponse> =>
  server.gql(MUTATIONS[name], { input }, token ?? undefined);

/** The variant of a change that must have succeeded. */
async function changes(name: MutationName, input: Input): Promise<any> {
  const res = await mutate(name, input);
  expect(res.errors).toBeUndefined();
  expect(res.data[name].userErrors).toEqual([]);
  return res.data[name].productVariant;
}

/** Every catalog row and every ledger entry: equal before and after means nothing was written. */
const inventoryState = async () => ({
  ...(await catalogState(server.prisma)),
  changes: await server.prisma.inventoryChange.findMany({ orderBy: { id: 'asc' } }),
});

interface ExpectedError {
  field: string[];
  code: string;
  message: string;
}

/** Runs a change that must fail with exactly these user errors and write nothing. */
async function refuses(name: MutationName, input: Input, userErrors: ExpectedError[]): Promise<void> {
  const before = await inventoryState();
  const res = await mutate(name, input);
  expect.soft({ errors: res.errors, data: res.data }).toEqual({
    data: { [name]: { productVariant: null, userErrors } },
  });
  expect(await inventoryState()).toEqual(before);
}

async function history(variantGid: string, page: Input = { first: 100 }): Promise<any> {
  const res = await server.gql(HISTORY, { id: variantGid, ...page }, staff);
  expect(res.errors).toBeUndefined();
  return res.data.node.inventoryHistory;
}

/** A variant's ledger in the database, newest first, as the API shows it. */
async function ledger(variantId: string) {
  const rows = await server.prisma.inventoryChange.findMany({ where: { variantId }, orderBy: { id: 'desc' } });
  return rows.map((row) => ({
    reason: row.reason,
    before: row.before,
    after: row.after,
    delta: row.after - row.before,
    createdAt: row.createdAt.toISOString(),
    changedBy: row.accountId && { id: toGlobalId('Account', row.accountId) },
  }));
}

const stockOf = (variantId: string) =>
  server.prisma.productVariant.findUniqueOrThrow({
    where: { id: variantId },
    select: { stockOnHand: true, stockReserved: true },
  });

/** The viewers refused every inventory field and change, with the error code each gets. */
const OUTSIDERS = [
  { viewer: 'a customer', token: () => customer, code: 'FORBIDDEN' as const },
  { viewer: 'an anonymous visitor', token: () => null, code: 'UNAUTHENTICATED' as const },
];

const denial = (code: 'FORBIDDEN' | 'UNAUTHENTICATED', path: (string | number)[]) => ({
  message: code === 'FORBIDDEN' ? 'You are not allowed to do this.' : 'You must be signed in to do this.',
  locations: [{ line: expect.any(Number), column: expect.any(Number) }],
  path,
  extensions: { code },
});

// ---------------------------------------------------------------------------------------------------------------
// Fixtures, written straight to the database (so without ledger entries) unless a test is about the mutations

let serial = 0;
const unique = (prefix: string) => `${prefix}-${++serial}`;

const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const level = (onHand: number, reserved: number) => ({ onHand, reserved, available: onHand - reserved });
const unknownVariant = () => toGlobalId('ProductVariant', randomUUID());
/** A ledger entry as inventoryHistory shows it, made by the staff account of this file. */
const entry = (reason: string, before: number, after: number) => ({
  reason,
  before,
  after,
  delta: after - before,
  createdAt: expect.stringMatching(ISO_DATE),
  changedBy: { id: staffGid },
});

// ---------------------------------------------------------------------------------------------------------------

describe('ProductVariant.inventory and inventoryHistory', () => {
  it('show staff the stock levels and an empty ledger', async () => {
    const variant = await shop.variant({ stock: 12, reserved: 5 });
    const res = await server.gql(
      `query ($id: ID!) { node(id: $id) { ... on ProductVariant {
        ${VARIANT} inventoryHistory(first: 5) { totalCount ${PAGE_INFO} edges { cursor } nodes { reason } } } } }`,
      { id: variant.gid },
      staff,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      node: {
        id: variant.gid,
        sku: variant.sku,
        availableForSale: true,
        inventory: { onHand: 12, reserved: 5, available: 7 },
        inventoryHistory: {
          totalCount: 0,
          pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
          edges: [],
          nodes: [],
        },
      },
    });
  });

  const staffFields = [
    { field: 'inventory', selection: LEVEL },
    { field: 'inventoryHistory', selection: `inventoryHistory(first: 5) { totalCount nodes { ${CHANGE} } }` },
  ];

  it.each(OUTSIDERS.flatMap((outsider) => staffFields.map((field) => ({ ...outsider, ...field }))))(
    '$field is refused to $viewer with $code, and the rest of the variant stays readable',
    async ({ token, code, field, selection }) => {
      const variant = await shop.variant({ stock: 4, reserved: 1 });
      const document = (extra: string) =>
        `query ($id: ID!) { node(id: $id) { ... on ProductVariant { id sku availableForSale ${extra} } } }`;

      const denied = await server.gql(document(selection), { id: variant.gid }, token() ?? undefined);
      expect(denied.status).toBe(200);
      expect(denied.errors).toEqual([denial(code, ['node', field])]);
      // the field is nullable, so only it is blanked: the rest of the variant arrives in the same response
      expect(denied.data).toEqual({
        node: { id: variant.gid, sku: variant.sku, availableForSale: true, [field]: null },
      });

      const allowed = await server.gql(document(''), { id: variant.gid }, token() ?? undefined);
      expect(allowed.errors).toBeUndefined();
      expect(allowed.data).toEqual({ node: { id: variant.gid, sku: variant.sku, availableForSale: true } });
    },
  );

  it('availableForSale of the variant and its product follows available stock, on hand minus reserved', async () => {
    const variant = await shop.variant({ stock: 3 });
    const read = async () => {
      const res = await server.gql(
        `query ($id: ID!) { node(id: $id) { ... on ProductVariant {
          availableForSale product { availableForSale } ${LEVEL} } } }`,
        { id: variant.gid },
        staff,
      );
      expect(res.errors).toBeUndefined();
      return res.data.node;
    };
    const state = (forSale: boolean, reserved: number) => ({
      availableForSale: forSale,
      product: { availableForSale: forSale },
      inventory: level(3, reserved),
    });

    expect(await read()).toEqual(state(true, 0));
    await server.prisma.productVariant.update({ where: { id: variant.id }, data: { stockReserved: 2 } });
    expect(await read()).toEqual(state(true, 2));
    await server.prisma.productVariant.update({ where: { id: variant.id }, data: { stockReserved: 3 } });
    expect(await read()).toEqual(state(false, 3));
  });

  it('products(filter: { availableForSale }) follows available stock, not stock on hand', async () => {
    const slug = unique('cat');
    const category = await server.prisma.category.create({ data: { name: slug, slug } });
    const variant = await shop.variant({ stock: 3, categoryId: category.id });
    const listed = async () => {
      const res = await server.gql(
        `query ($category: ID!) {
          inStock: products(filter: { categoryId: $category, availableForSale: true }) { totalCount nodes { id } }
          soldOut: products(filter: { categoryId: $category, availableForSale: false }) { totalCount nodes { id } }
        }`,
        { category: toGlobalId('Category', category.id) },
      );
      expect(res.errors).toBeUndefined();
      return res.data;
    };
    const product = { totalCount: 1, nodes: [{ id: variant.productGid }] };
    const none = { totalCount: 0, nodes: [] };

    expect(await listed()).toEqual({ inStock: product, soldOut: none });
    // every unit on hand reserved: nothing left to sell
    await server.prisma.productVariant.update({ where: { id: variant.id }, data: { stockReserved: 3 } });
    expect(await listed()).toEqual({ inStock: none, soldOut: product });
  });
});

describe('inventoryAdjust', () => {
  it('adds and takes stock, writing one ledger entry per change, newest first', async () => {
    const variant = await shop.variant({ stock: 10, reserved: 2 });

    expect(await changes('inventoryAdjust', { variantId: variant.gid, delta: 5, reason: 'delivery PO-1042' })).toEqual({
      id: variant.gid,
      sku: variant.sku,
      availableForSale: true,
      inventory: level(15, 2),
    });
    expect(await stockOf(variant.id)).toEqual({ stockOnHand: 15, stockReserved: 2 });

    expect(
      await changes('inventoryAdjust', { variantId: variant.gid, delta: -4, reason: 'damaged in storage' }),
    ).toEqual({ id: variant.gid, sku: variant.sku, availableForSale: true, inventory: level(11, 2) });
    expect(await stockOf(variant.id)).toEqual({ stockOnHand: 11, stockReserved: 2 });

    // taking every available unit is allowed; the variant is then sold out
    expect(await changes('inventoryAdjust', { variantId: variant.gid, delta: -9, reason: 'x'.repeat(200) })).toEqual({
      id: variant.gid,
      sku: variant.sku,
      availableForSale: false,
      inventory: level(2, 2),
    });

    const page = await history(variant.gid, { first: 10 });
    expect(page.nodes).toEqual([
      entry('x'.repeat(200), 11, 2),
      entry('damaged in storage', 15, 11),
      entry('delivery PO-1042', 10, 15),
    ]);
    expect(page.nodes).toEqual(await ledger(variant.id)); // the database agrees, changedBy included
    expect(page.totalCount).toBe(3);
    const times = page.nodes.map((node: { createdAt: string }) => Date.parse(node.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('pages through the ledger with first/after and last/before', async () => {
    const variant = await shop.variant({ stock: 0 });
    for (const delta of [1, 2, 3]) {
      await changes('inventoryAdjust', { variantId: variant.gid, delta, reason: `+${delta}` });
    }
    const reasons = (page: any) => page.nodes.map((node: { reason: string }) => node.reason);

    const first = await history(variant.gid, { first: 2 });
    expect(reasons(first)).toEqual(['+3', '+2']);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const rest = await history(variant.gid, { first: 2, after: first.pageInfo.endCursor });
    expect(reasons(rest)).toEqual(['+1']);
    expect(rest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const last = await history(variant.gid, { last: 2 });
    expect(reasons(last)).toEqual(['+2', '+1']);
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const earlier = await history(variant.gid, { last: 2, before: last.pageInfo.startCursor });
    expect(reasons(earlier)).toEqual(['+3']);
    expect(earlier.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect([first, rest, last, earlier].map((page) => page.totalCount)).toEqual([3, 3, 3, 3]);
  });

  const adjustRefusals: { name: string; input: (gid: string) => Input; error: ExpectedError }[] = [
    {
      name: 'a delta of 0',
      input: (variantId) => ({ variantId, delta: 0, reason: 'nothing' }),
      error: { field: ['input', 'delta'], code: 'INVALID', message: 'Delta cannot be 0.' },
    },
    {
      name: 'an empty reason',
      input: (variantId) => ({ variantId, delta: 1, reason: '' }),
      error: { field: ['input', 'reason'], code: 'BLANK', message: 'Reason cannot be blank.' },
    },
    {
      name: 'a blank reason',
      input: (variantId) => ({ variantId, delta: 1, reason: '   ' }),
      error: { field: ['input', 'reason'], code: 'BLANK', message: 'Reason cannot be blank.' },
    },
    {
      name: 'a reason over 200 characters',
      input: (variantId) => ({ variantId, delta: 1, reason: 'x'.repeat(201) }),
      error: { field: ['input', 'reason'], code: 'INVALID', message: 'Reason must be at most 200 characters.' },
    },
    {
      name: 'taking more than is available',
      input: (variantId) => ({ variantId, delta: -9, reason: 'shrinkage' }),
      error: {
        field: ['input', 'delta'],
        code: 'INVALID',
        message: 'At most 8 units can be taken: 10 on hand, 2 reserved.',
      },
    },
    {
      name: 'an unknown variant',
      input: () => ({ variantId: unknownVariant(), delta: 1, reason: 'delivery' }),
      error: { field: ['input', 'variantId'], code: 'NOT_FOUND', message: 'No variant with this ID.' },
    },
    {
      name: 'a malformed variant ID',
      input: () => ({ variantId: 'not-an-id', delta: 1, reason: 'delivery' }),
      error: { field: ['input', 'variantId'], code: 'NOT_FOUND', message: 'No variant with this ID.' },
    },
    {
      name: 'the ID of another type',
      input: () => ({ variantId: toGlobalId('Product', randomUUID()), delta: 1, reason: 'delivery' }),
      error: { field: ['input', 'variantId'], code: 'NOT_FOUND', message: 'No variant with this ID.' },
    },
  ];

  it.each(adjustRefusals)('refuses $name and writes nothing', async ({ input, error }) => {
    const variant = await shop.variant({ stock: 10, reserved: 2 });
    await refuses('inventoryAdjust', input(variant.gid), [error]);
  });

  it('refuses a delta that would overflow the stock, rather than failing internally', async () => {
    const variant = await shop.variant({ stock: 10 });
    const before = await inventoryState();
    const res = await mutate('inventoryAdjust', { variantId: variant.gid, delta: 2_147_483_647, reason: 'typo' });
    expect({ errors: res.errors, data: res.data }).toEqual({
      data: {
        inventoryAdjust: {
          productVariant: null,
          userErrors: [{ field: ['input', 'delta'], code: 'INVALID', message: expect.any(String) }],
        },
      },
    });
    expect(await inventoryState()).toEqual(before);
  });
});

describe('inventorySet', () => {
  it('sets the stock when compareQuantity matches, down to what is reserved', async () => {
    const variant = await shop.variant({ stock: 10, reserved: 3 });

    expect(
      await changes('inventorySet', {
        variantId: variant.gid,
        quantity: 4,
        compareQuantity: 10,
        reason: 'stocktake 2026-11',
      }),
    ).toEqual({ id: variant.gid, sku: variant.sku, availableForSale: true, inventory: level(4, 3) });
    expect(
      await changes('inventorySet', { variantId: variant.gid, quantity: 3, compareQuantity: 4, reason: 'recount' }),
    ).toEqual({ id: variant.gid, sku: variant.sku, availableForSale: false, inventory: level(3, 3) });

    expect(await stockOf(variant.id)).toEqual({ stockOnHand: 3, stockReserved: 3 });
    const page = await history(variant.gid);
    expect(page.nodes).toEqual([entry('recount', 4, 3), entry('stocktake 2026-11', 10, 4)]);
    expect(page.nodes).toEqual(await ledger(variant.id));
  });

  it('records "stock set" as the reason when none is given', async () => {
    const variant = await shop.variant({ stock: 5 });
    await changes('inventorySet', { variantId: variant.gid, quantity: 6, compareQuantity: 5 });
    await changes('inventorySet', { variantId: variant.gid, quantity: 7, compareQuantity: 6, reason: null });
    expect(await stockOf(variant.id)).toEqual({ stockOnHand: 7, stockReserved: 0 });
    expect((await history(variant.gid)).nodes).toEqual([entry('stock set', 6, 7), entry('stock set', 5, 6)]);
    expect((await history(variant.gid)).nodes).toEqual(await ledger(variant.id));
  });

  const setRefusals: { name: string; input: (gid: string) => Input; error: ExpectedError }[] = [
    {
      name: 'a stale compareQuantity',
      input: (variantId) => ({ variantId, quantity: 20, compareQuantity: 9, reason: 'stocktake' }),
      error: {
        field: ['input', 'compareQuantity'],
        code: 'CONFLICT',
        message: 'The stock on hand is 10, not 9: read it again before setting it.',
      },
    },
    {
      name: 'a quantity below what is reserved',
      input: (variantId) => ({ variantId, quantity: 2, compareQuantity: 10, reason: 'stocktake' }),
      error: {
        field: ['input', 'quantity'],
        code: 'INVALID',
        message: '3 units are reserved; the quantity cannot be lower.',
      },
    },
    {
      name: 'a negative quantity',
      input: (variantId) => ({ variantId, quantity: -1, compareQuantity: 10, reason: 'stocktake' }),
      error: { field: ['input', 'quantity'], code: 'INVALID', message: 'Quantity cannot be negative.' },
    },
    {
      name: 'a negative compareQuantity',
      input: (variantId) => ({ variantId, quantity: 5, compareQuantity: -1, reason: 'stocktake' }),
      error: { field: ['input', 'compareQuantity'], code: 'INVALID', message: 'Compare quantity cannot be negative.' },
    },
    {
      name: 'a blank reason',
      input: (variantId) => ({ variantId, quantity: 5, compareQuantity: 10, reason: ' ' }),
      error: { field: ['input', 'reason'], code: 'BLANK', message: 'Reason cannot be blank.' },
    },
    {
      name: 'a reason over 200 characters',
      input: (variantId) => ({ variantId, quantity: 5, compareQuantity: 10, reason: 'x'.repeat(201) }),
      error: { field: ['input', 'reason'], code: 'INVALID', message: 'Reason must be at most 200 characters.' },
    },
    {
      name: 'an unknown variant',
      input: () => ({ variantId: unknownVariant(), quantity: 5, compareQuantity: 10, reason: 'stocktake' }),
      error: { field: ['input', 'variantId'], code: 'NOT_FOUND', message: 'No variant with this ID.' },
    },
    {
      name: 'a malformed variant ID',
      input: () => ({ variantId: '', quantity: 5, compareQuantity: 10, reason: 'stocktake' }),
      error: { field: ['input', 'variantId'], code: 'NOT_FOUND', message: 'No variant with this ID.' },
    },
  ];

  it.each(setRefusals)('refuses $name and writes nothing', async ({ input, error }) => {
    const variant = await shop.variant({ stock: 10, reserved: 3 });
    await refuses('inventorySet', input(variant.gid), [error]);
  });
});

describe('initial stock from the catalog mutations', () => {
  const CREATE_PRODUCT = `mutation ($input: ProductCreateInput!) {
    productCreate(input: $input) { product { variants { ${VARIANT} } } ${USER_ERRORS} } }`;
  const CREATE_VARIANT = `mutation ($input: ProductVariantCreateInput!) {
    productVariantCreate(input: $input) { productVariant { ${VARIANT} } ${USER_ERRORS} } }`;

  /** The payload of a catalog mutation that must have succeeded for staff. */
  async function succeeds(document: string, name: string, input: Input): Promise<any> {
    const res = await server.gql(document, { input }, staff);
    expect(res.errors).toBeUndefined();
    expect(res.data[name].userErrors).toEqual([]);
    return res.data[name];
  }

  /** Each mutation that creates variants, creating these (on one new product). */
  const CREATORS = [
    {
      name: 'productCreate',
      create: async (variants: Input[]) =>
        (await succeeds(CREATE_PRODUCT, 'productCreate', { title: unique('Stocked'), variants })).product.variants,
    },
    {
      name: 'productVariantCreate',
      create: async (variants: Input[]) => {
        const slug = unique('product');
        const productId = toGlobalId(
          'Product',
          (await server.prisma.product.create({ data: { title: slug, slug } })).id,
        );
        const created = [];
        for (const fields of variants) {
          created.push(
            (await succeeds(CREATE_VARIANT, 'productVariantCreate', { productId, ...fields })).productVariant,
          );
        }
        return created;
      },
    },
  ];

  it.each(CREATORS)(
    '$name records inventoryQuantity as one "initial stock" entry by the staff account, and nothing without it',
    async ({ create }) => {
      const [stocked, empty] = await create([
        { sku: unique('STOCKED'), price: '5', inventoryQuantity: 7 },
        { sku: unique('EMPTY'), price: '5' },
      ]);
      expect([stocked.inventory, empty.inventory]).toEqual([level(7, 0), level(0, 0)]);

      const entries = await ledger(databaseIdOf(stocked.id, 'ProductVariant')!);
      expect(entries).toEqual([entry('initial stock', 0, 7)]);
      expect(await ledger(databaseIdOf(empty.id, 'ProductVariant')!)).toEqual([]);
      expect((await history(stocked.id)).nodes).toEqual(entries);
      expect((await history(empty.id)).nodes).toEqual([]);
    },
  );
});

describe('lowStockVariants', () => {
  const THRESHOLD = 3;

  /** Every variant at or below the threshold, least available first, then by ID, straight from the database. */
  async function expectedLowStock() {
    const variants = await server.prisma.productVariant.findMany();
    return variants
      .map((v) => ({ id: v.id, available: v.stockOnHand - v.stockReserved }))
      .filter((v) => v.available <= THRESHOLD)
      .sort((a, b) => a.available - b.available || (a.id < b.id ? -1 : 1))
      .map((v) => ({ id: toGlobalId('ProductVariant', v.id), inventory: { available: v.available } }));
  }

  const lowStock = (page: Input, token: string | null = staff) =>
    server.gql(LOW_STOCK, { threshold: THRESHOLD, ...page }, token ?? undefined);

  /** Walks every page in one direction, checking each page's size, flags and total on the way. */
  const walk = (direction: 'forward' | 'backward', total: number) =>
    walkPages(direction, 2, total, async (page) => {
      const res = await lowStock(page);
      expect(res.errors).toBeUndefined();
      return res.data.lowStockVariants;
    });

  it('lists variants at or below the threshold, least available first then by ID, in pages without gaps', async () => {
    const soldOut = await shop.variant({ stock: 2, reserved: 2 });
    // equally available, made in descending ID order so that the tie-break by ID shows
    const tieId = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
    const ones = [
      await shop.variant({ stock: 1, id: tieId(3) }),
      await shop.variant({ stock: 3, reserved: 2, id: tieId(2) }),
      await shop.variant({ stock: 1, id: tieId(1) }),
    ];
    const atThreshold = await shop.variant({ stock: 5, reserved: 2 });
    const plenty = await shop.variant({ stock: 50 });

    const expected = await expectedLowStock();
    const ids = expected.map((node) => node.id);
    const mine = [soldOut, ...ones.reverse(), atThreshold].map((v) => v.gid);
    expect(ids.filter((id) => mine.includes(id))).toEqual(mine);
    expect(ids).not.toContain(plenty.gid);
    expect(expected.length).toBeGreaterThanOrEqual(5);

    expect(await walk('forward', expected.length)).toEqual(expected);
    expect(await walk('backward', expected.length)).toEqual(expected);
  });

  it('refuses a negative threshold with BAD_USER_INPUT', async () => {
    const res = await server.gql(LOW_STOCK, { threshold: -1 }, staff);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      {
        message: '`threshold` cannot be negative.',
        locations: [{ line: expect.any(Number), column: expect.any(Number) }],
        path: ['lowStockVariants'],
        extensions: { code: 'BAD_USER_INPUT', argumentName: 'threshold' },
      },
    ]);
  });

  it.each(OUTSIDERS)('is refused to $viewer with $code', async ({ token, code }) => {
    const res = await lowStock({ first: 5 }, token());
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([denial(code, ['lowStockVariants'])]);
  });
});

describe('who may change stock', () => {
  const cases = (['inventoryAdjust', 'inventorySet'] as const).flatMap((name) =>
    OUTSIDERS.map((outsider) => ({ name, ...outsider })),
  );

  it.each(cases)('$name: $viewer is refused with $code and nothing is written', async ({ name, token, code }) => {
    const variant = await shop.variant({ stock: 10 });
    const input =
      name === 'inventoryAdjust'
        ? { variantId: variant.gid, delta: -1, reason: 'sale' }
        : { variantId: variant.gid, quantity: 0, compareQuantity: 10, reason: 'stocktake' };
    const before = await inventoryState();

    const res = await mutate(name, input, token());

    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([denial(code, [name])]);
    expect(await inventoryState()).toEqual(before);
  });
});

describe('concurrent changes', () => {
  it('40 concurrent takes of one unit from 10 on hand: exactly 10 succeed and the ledger chains 10 → 0', async () => {
    const variant = await shop.variant({ stock: 10 });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        mutate('inventoryAdjust', { variantId: variant.gid, delta: -1, reason: `sale ${i}` }),
      ),
    );
    const elapsed = Math.round(performance.now() - started);

    expect(results.map((res) => res.errors)).toEqual(results.map(() => undefined));
    const payloads = results.map((res) => res.data.inventoryAdjust);
    const succeeded = payloads.filter((payload) => payload.userErrors.length === 0);
    const refused = payloads.filter((payload) => payload.userErrors.length > 0);
    console.log(
      `inventoryAdjust race: ${results.length} requests, ${succeeded.length} succeeded, ${refused.length} refused, ` +
        `final stock ${(await stockOf(variant.id)).stockOnHand}, ${elapsed} ms`,
    );

    expect(succeeded).toHaveLength(10);
    // each success saw its own change: the stock after it, every value from 9 down to 0 exactly once
    expect(succeeded.map((payload) => payload.productVariant.inventory.onHand).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(refused).toEqual(
      Array.from({ length: 30 }, () => ({
        productVariant: null,
        userErrors: [
          {
            field: ['input', 'delta'],
            code: 'INVALID',
            message: 'At most 0 units can be taken: 0 on hand, 0 reserved.',
          },
        ],
      })),
    );
    expect(await stockOf(variant.id)).toEqual({ stockOnHand: 0, stockReserved: 0 });

    const entries = await ledger(variant.id);
    expect(entries.map(({ before, after, delta }) => [before, after, delta])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i + 1, i, -1]),
    );
    expect(new Set(entries.map((entry) => entry.reason)).size).toBe(10);
    expect((await history(variant.gid)).nodes).toEqual(entries);
  });

  it('20 concurrent compare-and-sets from the same stock: exactly one succeeds', async () => {
    const variant = await shop.variant({ stock: 10 });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        mutate('inventorySet', {
          variantId: variant.gid,
          quantity: 100 + i,
          compareQuantity: 10,
          reason: `count ${i}`,
        }),
      ),
    );
    const elapsed = Math.round(performance.now() - started);

    expect(results.map((res) => res.errors)).toEqual(results.map(() => undefined));
    const payloads = results.map((res) => res.data.inventorySet);
    const succeeded = payloads.filter((payload) => payload.userErrors.length === 0);
    const final = (await stockOf(variant.id)).stockOnHand;
    console.log(
      `inventorySet race: ${results.length} requests, ${succeeded.length} succeeded, final stock ${final}, ${elapsed} ms`,
    );

    expect(succeeded).toHaveLength(1);
    const winner = succeeded[0].productVariant.inventory.onHand;
    expect(winner).toBeGreaterThanOrEqual(100);
    expect(winner).toBeLessThan(120);
    expect(final).toBe(winner);
    expect(payloads.filter((payload) => payload.userErrors.length > 0)).toEqual(
      Array.from({ length: 19 }, () => ({
        productVariant: null,
        userErrors: [
          {
            field: ['input', 'compareQuantity'],
            code: 'CONFLICT',
            message: `The stock on hand is ${winner}, not 10: read it again before setting it.`,
          },
        ],
      })),
    );
    expect(await ledger(variant.id)).toEqual([entry(`count ${winner - 100}`, 10, winner)]);
  });
});
