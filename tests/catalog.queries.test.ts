// The public catalog reads over HTTP, as an anonymous visitor, against a small hand-made catalog whose every order,
// filter result and total is known in advance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/globalId.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';

// ---------------------------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------------------------

/** Fixed IDs, chosen so that within every tie (same createdAt, same price, same title, no variants) the product
 * listed later in PRODUCTS has the smaller ID: the tie-breaker then visibly differs from insertion order. */
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Apparel > {Hoodies, T-Shirts > Graphic Tees}, Home > Kitchen, Books (empty). Keyed by slug. */
const CATEGORIES = [
  { slug: 'apparel', name: 'Apparel', parent: null },
  { slug: 'hoodies', name: 'Hoodies', parent: 'apparel' },
  { slug: 't-shirts', name: 'T-Shirts', parent: 'apparel' },
  { slug: 'graphic-tees', name: 'Graphic Tees', parent: 't-shirts' },
  { slug: 'home', name: 'Home', parent: null },
  { slug: 'kitchen', name: 'Kitchen', parent: 'home' },
  { slug: 'books', name: 'Books', parent: null },
].map((category, index) => ({ ...category, id: uuid(1000 + index), description: `All ${category.name}.` }));

interface VariantFixture {
  sku: string;
  /** Cents. */
  price: number;
  compareAt?: number;
  stock: number;
  position: number;
  options?: Record<string, string>;
}

interface ProductFixture {
  id: string;
  slug: string;
  title: string;
  description: string;
  /** Minutes after 2026-01-01T09:00Z. */
  minute: number;
  categories: string[];
  variants: VariantFixture[];
}

const PRODUCTS: ProductFixture[] = [
  {
    id: uuid(10),
    slug: 'aurora-hoodie',
    title: 'Aurora Hoodie',
    description: 'Warm fleece hoodie.',
    minute: 0,
    categories: ['hoodies'],
    // inserted out of position order on purpose
    variants: [
      { sku: 'AUR-L', price: 5800, stock: 0, position: 1, options: { Size: 'L', Color: 'Navy' } },
      { sku: 'AUR-M', price: 5200, stock: 5, position: 0, options: { Size: 'M', Color: 'Navy' } },
    ],
  },
  {
    id: uuid(20),
    slug: 'basic-tee',
    title: 'Basic Tee',
    description: 'Soft cotton tee.',
    minute: 1,
    categories: ['t-shirts'],
    variants: [
      { sku: 'TEE-S', price: 1999, compareAt: 2499, stock: 10, position: 0, options: { Size: 'S' } },
      { sku: 'TEE-M', price: 1999, stock: 0, position: 1, options: { Size: 'M' } },
    ],
  },
  {
    id: uuid(30),
    slug: 'cedar-candle',
    title: 'Cedar Candle',
    description: 'Scented candle for cold evenings, as cosy as a hoodie.',
    minute: 2,
    categories: ['home'],
    variants: [{ sku: 'CANDLE', price: 1250, stock: 3, position: 0 }],
  },
  {
    id: uuid(40),
    slug: 'dune-graphic-tee',
    title: 'Dune Graphic Tee',
    description: 'Printed tee with desert art.',
    minute: 3,
    categories: ['graphic-tees', 't-shirts'],
    variants: [{ sku: 'DUNE', price: 2499, stock: 0, position: 0 }],
  },
  {
    id: uuid(3),
    slug: 'ember-mug',
    title: 'Ember Mug',
    description: 'Ceramic mug.',
    minute: 3, // same createdAt as dune-graphic-tee
    categories: ['kitchen', 'home'],
    variants: [{ sku: 'MUG', price: 999, stock: 7, position: 0 }],
  },
  {
    id: uuid(60),
    slug: 'fjord-hoodie',
    title: 'Fjord Hoodie',
    description: 'Zip fleece hoodie.',
    minute: 4,
    categories: ['hoodies'],
    variants: [{ sku: 'FJORD', price: 4999, stock: 2, position: 0 }],
  },
  {
    id: uuid(70),
    slug: 'glacier-poster',
    title: 'Glacier Poster',
    description: 'Coming soon.',
    minute: 5,
    categories: [],
    variants: [],
  },
  {
    id: uuid(2),
    slug: 'harbor-tote',
    title: 'Harbor Tote',
    description: 'Canvas tote bag.',
    minute: 6,
    categories: ['home'],
    variants: [],
  },
  {
    id: uuid(1),
    slug: 'basic-tee-organic',
    title: 'Basic Tee', // same title as basic-tee
    description: 'Organic cotton tee.',
    minute: 7,
    categories: ['t-shirts'],
    variants: [{ sku: 'TEE-ORG', price: 2499, stock: 4, position: 0 }], // same price as dune-graphic-tee
  },
];

const createdAt = (minute: number) => new Date(Date.UTC(2026, 0, 1, 9, minute));
const categoryId = (slug: string) => CATEGORIES.find((category) => category.slug === slug)!.id;
const productId = (slug: string) => PRODUCTS.find((product) => product.slug === slug)!.id;

async function createCatalog(server: TestServer): Promise<void> {
  const { prisma } = server;
  await prisma.category.createMany({
    data: CATEGORIES.map(({ id, name, slug, description, parent }) => ({
      id,
      name,
      slug,
      description,
      parentId: parent && categoryId(parent),
    })),
  });
  await prisma.product.createMany({
    data: PRODUCTS.map(({ id, title, slug, description, minute }) => ({
      id,
      title,
      slug,
      description,
      createdAt: createdAt(minute),
    })),
  });
  await prisma.productVariant.createMany({
    data: PRODUCTS.flatMap((product) =>
      product.variants.map((variant) => ({
        productId: product.id,
        sku: variant.sku,
        title: Object.values(variant.options ?? {}).join(' / ') || 'Default',
        priceAmount: variant.price,
        compareAtAmount: variant.compareAt ?? null,
        selectedOptions: Object.entries(variant.options ?? {}).map(([name, value]) => ({ name, value })),
        stockOnHand: variant.stock,
        position: variant.position,
      })),
    ),
  });
  await prisma.productCategory.createMany({
    data: PRODUCTS.flatMap((product) =>
      product.categories.map((slug) => ({ productId: product.id, categoryId: categoryId(slug) })),
    ),
  });
}

/** Every product in each order (ties broken by ID, ascending). */
const BY_CREATED_AT = [
  'aurora-hoodie',
  'basic-tee',
  'cedar-candle',
  'ember-mug', // tie at minute 3: the smaller ID first
  'dune-graphic-tee',
  'fjord-hoodie',
  'glacier-poster',
  'harbor-tote',
  'basic-tee-organic',
];
const BY_TITLE = [
  'aurora-hoodie',
  'basic-tee-organic', // both "Basic Tee": the smaller ID first
  'basic-tee',
  'cedar-candle',
  'dune-graphic-tee',
  'ember-mug',
  'fjord-hoodie',
  'glacier-poster',
  'harbor-tote',
];
const WITH_VARIANTS = BY_CREATED_AT.filter((slug) => !['glacier-poster', 'harbor-tote'].includes(slug));
const BY_PRICE = [
  'ember-mug', // 9.99
  'cedar-candle', // 12.50
  'basic-tee', // 19.99
  'basic-tee-organic', // 24.99, the smaller ID
  'dune-graphic-tee', // 24.99
  'fjord-hoodie', // 49.99
  'aurora-hoodie', // 52.00 (cheapest variant)
  'harbor-tote', // no variants, the smaller ID
  'glacier-poster', // no variants
];

// ---------------------------------------------------------------------------------------------------------------
// GraphQL documents and helpers
// ---------------------------------------------------------------------------------------------------------------

const PAGE_FIELDS = `
  edges { cursor node { slug } }
  nodes { slug }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  totalCount`;

const PAGE_VARIABLES = '$first: Int, $after: String, $last: Int, $before: String';
const PAGE_ARGUMENTS = 'first: $first, after: $after, last: $last, before: $before';

const PRODUCTS_QUERY = `
  query Products(${PAGE_VARIABLES}, $filter: ProductFilter, $sortKey: ProductSortKeys, $reverse: Boolean) {
    products(${PAGE_ARGUMENTS}, filter: $filter, sortKey: $sortKey, reverse: $reverse) { ${PAGE_FIELDS} }
  }`;

const CATEGORY_PRODUCTS_QUERY = `
  query CategoryProducts($slug: String!, ${PAGE_VARIABLES}, $sortKey: ProductSortKeys, $reverse: Boolean) {
    category(slug: $slug) { products(${PAGE_ARGUMENTS}, sortKey: $sortKey, reverse: $reverse) { ${PAGE_FIELDS} } }
  }`;

const CATEGORIES_QUERY = `
  query Categories(${PAGE_VARIABLES}, $parentId: ID, $topLevel: Boolean) {
    categories(${PAGE_ARGUMENTS}, parentId: $parentId, topLevel: $topLevel) { ${PAGE_FIELDS} }
  }`;

const PRODUCT_FIELDS = `
  id title slug description createdAt availableForSale
  priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { amount currencyCode } }
  variants {
    sku title availableForSale
    price { amount currencyCode }
    compareAtPrice { amount currencyCode }
    selectedOptions { name value }
    product { slug }
  }
  categories { slug name }`;

const PRODUCT_QUERY = `query Product($id: ID, $slug: String) { product(id: $id, slug: $slug) { ${PRODUCT_FIELDS} } }`;

const CATEGORY_QUERY = `
  query Category($id: ID, $slug: String) {
    category(id: $id, slug: $slug) {
      id name slug description
      parent { slug parent { slug parent { slug } } }
      children { slug name }
      products { totalCount nodes { slug } }
    }
  }`;

const NODE_FIELDS = `
  __typename id
  ... on Product { slug }
  ... on ProductVariant { sku }
  ... on Category { slug }`;

const NODE_QUERY = `query Node($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`;
const NODES_QUERY = `query Nodes($ids: [ID!]!) { nodes(ids: $ids) { ${NODE_FIELDS} } }`;

interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

interface Page {
  edges: { cursor: string; node: { slug: string } }[];
  nodes: { slug: string }[];
  pageInfo: PageInfo;
  totalCount: number;
}

interface PageArgs {
  first?: number;
  after?: string | null;
  last?: number;
  before?: string | null;
}

interface ProductArgs extends PageArgs {
  filter?: {
    query?: string;
    categoryId?: string;
    minPrice?: string;
    maxPrice?: string;
    availableForSale?: boolean;
  };
  sortKey?: 'TITLE' | 'PRICE' | 'CREATED_AT' | 'RELEVANCE';
  reverse?: boolean;
}

type FetchPage = (args: PageArgs) => Promise<Page>;

let server: TestServer;

/** The data of a response that must have no errors. */
async function data<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await server.gql<T>(query, variables);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  expect(response.status).toBe(200);
  return response.data!;
}

/** A response that must fail with exactly one BAD_USER_INPUT error whose message matches `message`. */
async function expectBadUserInput(
  query: string,
  variables: Record<string, unknown>,
  message: RegExp,
): Promise<GraphQLResponse> {
  const response = await server.gql(query, variables);
  expect(response.errors, JSON.stringify(response.errors)).toHaveLength(1);
  expect(response.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
  expect(response.errors![0]!.message).toMatch(message);
  return response;
}

const products = async (args: ProductArgs = {}): Promise<Page> => (await data(PRODUCTS_QUERY, { ...args })).products;
const productSlugs = async (args: ProductArgs = {}) =>
  (await products({ first: 100, ...args })).nodes.map((n) => n.slug);
const categoryProducts =
  (slug: string, extra: Omit<ProductArgs, keyof PageArgs> = {}): FetchPage =>
  async (args) =>
    (await data(CATEGORY_PRODUCTS_QUERY, { slug, ...extra, ...args })).category.products;
const categories =
  (extra: { parentId?: string; topLevel?: boolean } = {}): FetchPage =>
  async (args) =>
    (await data(CATEGORIES_QUERY, { ...extra, ...args })).categories;

const slugsOf = (page: Page) => page.nodes.map((node) => node.slug);

/** Checks the parts of a page that must agree with each other. */
function expectConsistentPage(page: Page): void {
  expect(page.nodes).toEqual(page.edges.map((edge) => edge.node));
  expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
  expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
}

/** Every slug, read `size` at a time with first/after; checks each page's pageInfo on the way. */
async function pageForward(fetch: FetchPage, size: number): Promise<string[]> {
  const slugs: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await fetch({ first: size, after });
    expectConsistentPage(page);
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    if (page.pageInfo.hasNextPage) expect(page.nodes).toHaveLength(size);
    slugs.push(...slugsOf(page));
    if (!page.pageInfo.hasNextPage) return slugs;
    after = page.pageInfo.endCursor;
  }
  throw new Error('paging forward did not end');
}

/** Every slug, read `size` at a time with last/before from the end; checks each page's pageInfo on the way. */
async function pageBackward(fetch: FetchPage, size: number): Promise<string[]> {
  const slugs: string[] = [];
  let before: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await fetch({ last: size, before });
    expectConsistentPage(page);
    expect(page.pageInfo.hasNextPage).toBe(before !== null);
    if (page.pageInfo.hasPreviousPage) expect(page.nodes).toHaveLength(size);
    slugs.unshift(...slugsOf(page));
    if (!page.pageInfo.hasPreviousPage) return slugs;
    before = page.pageInfo.startCursor;
  }
  throw new Error('paging backward did not end');
}

const cursorOf = (raw: unknown) => Buffer.from(JSON.stringify(raw)).toString('base64url');
const gid = toGlobalId;

/** The cursors of the products in the default order. */
let cursors: string[] = [];
const cursorAt = (index: number) => cursors[index]!;

beforeAll(async () => {
  server = await startTestServer();
  await createCatalog(server);
  cursors = (await products({ first: 100 })).edges.map((edge) => edge.cursor);
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// products: connection shape and paging
// ---------------------------------------------------------------------------------------------------------------

describe('products connection', () => {
  it('returns edges with cursors, the same nodes, pageInfo and totalCount', async () => {
    const page = await products({ first: 3 });
    expect(slugsOf(page)).toEqual(BY_CREATED_AT.slice(0, 3));
    expectConsistentPage(page);
    expect(new Set(page.edges.map((edge) => edge.cursor)).size).toBe(3);
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(page.totalCount).toBe(PRODUCTS.length);
  });

  it('orders by CREATED_AT ascending by default, ties broken by ID', async () => {
    expect(await productSlugs()).toEqual(BY_CREATED_AT);
    expect(await productSlugs({ sortKey: 'CREATED_AT' })).toEqual(BY_CREATED_AT);
  });

  it('reverses the order with reverse: true', async () => {
    expect(await productSlugs({ reverse: true })).toEqual([...BY_CREATED_AT].reverse());
  });

  it.each([1, 4, 9])('pages forward with first: %i without gaps or overlaps', async (size) => {
    expect(await pageForward(products, size)).toEqual(BY_CREATED_AT);
  });

  it.each([1, 4, 9])('pages backward with last: %i without gaps or overlaps', async (size) => {
    expect(await pageBackward(products, size)).toEqual(BY_CREATED_AT);
  });

  it('reports the ends of the list', async () => {
    const first = await products({ first: 4 });
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const lastForward = await products({ first: 4, after: cursorAt(4) });
    expect(slugsOf(lastForward)).toEqual(BY_CREATED_AT.slice(5, 9));
    expect(lastForward.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const last = await products({ last: 4 });
    expect(slugsOf(last)).toEqual(BY_CREATED_AT.slice(5));
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const firstBackward = await products({ last: 4, before: last.pageInfo.startCursor });
    expect(slugsOf(firstBackward)).toEqual(BY_CREATED_AT.slice(1, 5));
    expect(firstBackward.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const start = await products({ last: 4, before: firstBackward.pageInfo.startCursor });
    expect(slugsOf(start)).toEqual(BY_CREATED_AT.slice(0, 1));
    expect(start.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it('gives an empty page after the last product and before the first', async () => {
    const all = await products({ first: 100 });
    const emptyPage = { edges: [], nodes: [], totalCount: PRODUCTS.length };
    expect(await products({ first: 5, after: all.pageInfo.endCursor })).toEqual({
      ...emptyPage,
      pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
    });
    expect(await products({ last: 5, before: all.pageInfo.startCursor })).toEqual({
      ...emptyPage,
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('gives an empty page for first: 0', async () => {
    const page = await products({ first: 0 });
    expect(page.edges).toEqual([]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(page.totalCount).toBe(PRODUCTS.length);
  });
});

describe('products paging arguments', () => {
  it('caps first and last at 100, naming the limit', async () => {
    await expectBadUserInput(PRODUCTS_QUERY, { first: 101 }, /`first`.*\b100\b/);
    await expectBadUserInput(PRODUCTS_QUERY, { last: 101 }, /`last`.*\b100\b/);
  });

  it('accepts first: 100 and last: 100', async () => {
    expect(await productSlugs({ first: 100 })).toEqual(BY_CREATED_AT);
    expect(slugsOf(await products({ last: 100 }))).toEqual(BY_CREATED_AT);
  });

  it('rejects a negative first or last', async () => {
    await expectBadUserInput(PRODUCTS_QUERY, { first: -1 }, /`first` must not be negative/);
    await expectBadUserInput(PRODUCTS_QUERY, { last: -1 }, /`last` must not be negative/);
  });

  it('rejects first and last together, and after and before together', async () => {
    await expectBadUserInput(PRODUCTS_QUERY, { first: 2, last: 2 }, /not both/);
    await expectBadUserInput(PRODUCTS_QUERY, { after: cursorAt(1), before: cursorAt(5) }, /not both/);
    await expectBadUserInput(PRODUCTS_QUERY, { first: 2, before: cursorAt(5) }, /cannot be mixed/);
  });

  it.each([
    ['not base64 JSON', 'garbage'],
    ['empty', ''],
    ['JSON of the wrong shape', cursorOf({ sortKey: 'CREATED_AT' })],
    ['a malformed ID', cursorOf(['CREATED_AT', '2026-01-01T09:00:00.000Z', 'not-a-uuid'])],
  ])('rejects a garbage cursor (%s)', async (_, cursor) => {
    await expectBadUserInput(PRODUCTS_QUERY, { first: 2, after: cursor }, /`after` is not a cursor of this list/);
    await expectBadUserInput(PRODUCTS_QUERY, { last: 2, before: cursor }, /`before` is not a cursor of this list/);
  });

  it('rejects a cursor made under another sortKey', async () => {
    const byTitle = await products({ first: 2, sortKey: 'TITLE' });
    await expectBadUserInput(
      PRODUCTS_QUERY,
      { first: 2, after: byTitle.pageInfo.endCursor, sortKey: 'PRICE' },
      /`after` is not a cursor of this list/,
    );
    await expectBadUserInput(PRODUCTS_QUERY, { first: 2, after: byTitle.pageInfo.endCursor }, /not a cursor/);
  });

  it('rejects a category cursor given to products', async () => {
    const page = await categories()({ first: 1 });
    await expectBadUserInput(PRODUCTS_QUERY, { first: 2, after: page.pageInfo.endCursor }, /not a cursor/);
  });

  // A forged cursor whose sort value has the wrong type for its key is the client's mistake, like any other garbage
  // cursor (it once reached PostgreSQL's cast and came back as an internal error).
  it.each([
    ['CREATED_AT', 'not-a-date'],
    ['PRICE', 'cheap'],
  ])('rejects a forged %s cursor whose value has the wrong type', async (sortKey, value) => {
    const forged = cursorOf([sortKey, value, uuid(10)]);
    await expectBadUserInput(PRODUCTS_QUERY, { first: 2, after: forged, sortKey }, /not a cursor/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// products: sort keys
// ---------------------------------------------------------------------------------------------------------------

describe.each([
  ['CREATED_AT', BY_CREATED_AT],
  ['TITLE', BY_TITLE],
  ['PRICE', BY_PRICE],
] as const)('sortKey %s', (sortKey, expected) => {
  const fetch: FetchPage = (args) => products({ ...args, sortKey });
  const fetchReversed: FetchPage = (args) => products({ ...args, sortKey, reverse: true });

  it('lists every product in order, ties broken by ID', async () => {
    expect(await productSlugs({ sortKey })).toEqual(expected);
  });

  it('lists them in the opposite order with reverse: true', async () => {
    expect(await productSlugs({ sortKey, reverse: true })).toEqual([...expected].reverse());
  });

  it.each([1, 2])('pages forward and backward %i at a time, ties neither skipped nor repeated', async (size) => {
    expect(await pageForward(fetch, size)).toEqual(expected);
    expect(await pageBackward(fetch, size)).toEqual(expected);
  });

  it('pages forward and backward in reverse', async () => {
    expect(await pageForward(fetchReversed, 1)).toEqual([...expected].reverse());
    expect(await pageBackward(fetchReversed, 2)).toEqual([...expected].reverse());
  });
});

// Regression: products without variants once sorted as if they cost 2^31 - 1 cents, the highest price a variant may
// have, so a product at that price tied with them.
const PRODUCT_CREATE = `mutation ($input: ProductCreateInput!) {
  productCreate(input: $input) { product { id } userErrors { message } }
}`;
const PRODUCT_DELETE = `mutation ($id: ID!) { productDelete(input: { id: $id }) { deletedProductId } }`;

describe('sortKey PRICE at the top of the price range', () => {
  it('puts a product at the highest allowed price before the products without variants', async () => {
    const staff = await server.tokenFor('STAFF');
    const input = { title: 'Ivory Throne', slug: 'ivory-throne', variants: [{ sku: 'THRONE', price: '21474836.47' }] };
    const { product: throne, userErrors } = (await server.gql(PRODUCT_CREATE, { input }, staff)).data.productCreate;
    expect(userErrors).toEqual([]);
    try {
      const expected = [...BY_PRICE.slice(0, -2), 'ivory-throne', ...BY_PRICE.slice(-2)];
      expect(await productSlugs({ sortKey: 'PRICE' })).toEqual(expected);
    } finally {
      await server.gql(PRODUCT_DELETE, { id: throne.id }, staff);
    }
  });
});

describe('sortKey RELEVANCE', () => {
  const hoodieQuery = { filter: { query: 'hoodie' }, sortKey: 'RELEVANCE' } as const;

  it('ranks title matches above description-only matches', async () => {
    const slugs = await productSlugs(hoodieQuery);
    expect(slugs).toHaveLength(3);
    expect(slugs.slice(0, 2).sort()).toEqual(['aurora-hoodie', 'fjord-hoodie']);
    expect(slugs[2]).toBe('cedar-candle');
  });

  it('puts description-only matches first with reverse: true', async () => {
    const slugs = await productSlugs({ ...hoodieQuery, reverse: true });
    expect(slugs[0]).toBe('cedar-candle');
    expect(slugs.slice(1).sort()).toEqual(['aurora-hoodie', 'fjord-hoodie']);
  });

  it('pages one at a time through equally relevant products', async () => {
    // "Aurora Hoodie"/"Warm fleece hoodie." and "Fjord Hoodie"/"Zip fleece hoodie." rank the same
    const all = await productSlugs(hoodieQuery);
    const fetch: FetchPage = (args) => products({ ...args, ...hoodieQuery });
    expect(await pageForward(fetch, 1)).toEqual(all);
    expect(await pageBackward(fetch, 1)).toEqual(all);
    const fleece: FetchPage = (args) => products({ ...args, filter: { query: 'fleece' }, sortKey: 'RELEVANCE' });
    const fleeceAll = await pageForward(fleece, 1);
    expect([...fleeceAll].sort()).toEqual(['aurora-hoodie', 'fjord-hoodie']);
    expect(await pageBackward(fleece, 1)).toEqual(fleeceAll);
  });

  it('needs filter.query', async () => {
    await expectBadUserInput(PRODUCTS_QUERY, { sortKey: 'RELEVANCE' }, /RELEVANCE.*filter\.query/);
    await expectBadUserInput(PRODUCTS_QUERY, { sortKey: 'RELEVANCE', filter: { query: '   ' } }, /filter\.query/);
    await expectBadUserInput(
      CATEGORY_PRODUCTS_QUERY,
      { slug: 'apparel', sortKey: 'RELEVANCE' },
      /RELEVANCE.*filter\.query/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// products: filters
// ---------------------------------------------------------------------------------------------------------------

/** Slugs (in the default order) and totalCount for a filter, read with a page smaller than the result. */
async function filtered(filter: ProductArgs['filter']): Promise<{ slugs: string[]; totalCount: number }> {
  const all = await products({ first: 100, filter });
  const firstOnly = await products({ first: 1, filter });
  expect(firstOnly.totalCount).toBe(all.totalCount);
  return { slugs: slugsOf(all), totalCount: all.totalCount };
}

const only = (...slugs: string[]) => ({ slugs, totalCount: slugs.length });

describe('products filter', () => {
  it.each([
    ['stems words: "hoodies" finds "Hoodie"', 'hoodies', ['aurora-hoodie', 'cedar-candle', 'fjord-hoodie']],
    ['searches descriptions', 'ceramic', ['ember-mug']],
    ['excludes -words', 'hoodie -zip', ['aurora-hoodie', 'cedar-candle']],
    ['excludes -words (tees)', 'tee -graphic', ['basic-tee', 'basic-tee-organic']],
    ['matches "exact phrases"', '"graphic tee"', ['dune-graphic-tee']],
    ['understands or', 'mug or candle', ['cedar-candle', 'ember-mug']],
    ['is case-insensitive', 'HOODIE', ['aurora-hoodie', 'cedar-candle', 'fjord-hoodie']],
    ['finds nothing for an unknown word', 'trampoline', []],
  ])('query %s', async (_, query, expected) => {
    expect(await filtered({ query })).toEqual(only(...expected));
  });

  it('ignores a blank query', async () => {
    expect(await filtered({ query: '   ' })).toEqual(only(...BY_CREATED_AT));
  });

  it('rejects a query longer than 256 characters', async () => {
    await expectBadUserInput(PRODUCTS_QUERY, { filter: { query: 'a'.repeat(257) } }, /256/);
  });

  it.each([
    [{ minPrice: '19.99', maxPrice: '19.99' }, ['basic-tee']],
    [{ minPrice: '50' }, ['aurora-hoodie']],
    [{ minPrice: '49.99' }, ['aurora-hoodie', 'fjord-hoodie']],
    [{ maxPrice: '12.50' }, ['cedar-candle', 'ember-mug']],
    [{ maxPrice: '12.49' }, ['ember-mug']],
    [{ minPrice: '20', maxPrice: '30' }, ['dune-graphic-tee', 'basic-tee-organic']],
    // aurora-hoodie costs 52.00 or 58.00: none of its variants lies within 53-57
    [{ minPrice: '53', maxPrice: '57' }, []],
    [{ minPrice: '53', maxPrice: '58.00' }, ['aurora-hoodie']],
    [{ minPrice: '0' }, WITH_VARIANTS],
    [{ maxPrice: '21474836.47' }, WITH_VARIANTS],
  ])('price range %j', async (filter, expected) => {
    expect(await filtered(filter)).toEqual(only(...expected));
  });

  // Regression: a bound above 2^31 - 1 cents (21,474,836.47 USD), still a valid Decimal, once overflowed the int4
  // comparison in PostgreSQL and came back as INTERNAL_SERVER_ERROR.
  it.each([
    [{ maxPrice: '21474836.48' }, WITH_VARIANTS],
    [{ maxPrice: '100000000' }, WITH_VARIANTS],
    [{ minPrice: '100000000' }, []],
  ])('price range %j beyond the largest storable price', async (filter, expected) => {
    expect(await filtered(filter)).toEqual(only(...expected));
  });

  it.each([
    ['more decimals than USD has', '19.999'],
    ['negative', '-1'],
  ])('rejects a price bound that is %s', async (_, amount) => {
    await expectBadUserInput(PRODUCTS_QUERY, { filter: { minPrice: amount } }, /filter\.minPrice.*USD/);
    await expectBadUserInput(PRODUCTS_QUERY, { filter: { maxPrice: amount } }, /filter\.maxPrice.*USD/);
  });

  it('filters by availableForSale', async () => {
    expect(await filtered({ availableForSale: true })).toEqual(
      only('aurora-hoodie', 'basic-tee', 'cedar-candle', 'ember-mug', 'fjord-hoodie', 'basic-tee-organic'),
    );
    // sold out, or without any variant
    expect(await filtered({ availableForSale: false })).toEqual(
      only('dune-graphic-tee', 'glacier-poster', 'harbor-tote'),
    );
  });

  it('combines conditions', async () => {
    expect(await filtered({ query: 'tee', availableForSale: false })).toEqual(only('dune-graphic-tee'));
    expect(await filtered({ query: 'tee', maxPrice: '20' })).toEqual(only('basic-tee'));
    expect(await filtered({ query: 'hoodie', minPrice: '50', availableForSale: true })).toEqual(only('aurora-hoodie'));
    expect(await filtered({ availableForSale: true, minPrice: '20', maxPrice: '30' })).toEqual(
      only('basic-tee-organic'),
    );
  });

  it('combines conditions with sorting and paging', async () => {
    const fetch: FetchPage = (args) => products({ ...args, filter: { availableForSale: true }, sortKey: 'PRICE' });
    const expected = ['ember-mug', 'cedar-candle', 'basic-tee', 'basic-tee-organic', 'fjord-hoodie', 'aurora-hoodie'];
    expect(await pageForward(fetch, 4)).toEqual(expected);
    expect(await pageBackward(fetch, 4)).toEqual(expected);
  });
});

// Regression: `filter.categoryId` was once ignored and every product listed.
describe('products filter categoryId', () => {
  it.each([
    ['apparel', ['aurora-hoodie', 'basic-tee', 'dune-graphic-tee', 'fjord-hoodie', 'basic-tee-organic']],
    ['t-shirts', ['basic-tee', 'dune-graphic-tee', 'basic-tee-organic']],
    ['graphic-tees', ['dune-graphic-tee']],
    ['home', ['cedar-candle', 'ember-mug', 'harbor-tote']],
    ['books', []],
  ])('%s lists the products of the category and its descendants, each once', async (slug, expected) => {
    expect(await filtered({ categoryId: gid('Category', categoryId(slug)) })).toEqual(only(...expected));
  });

  it('combines with other conditions', async () => {
    expect(await filtered({ categoryId: gid('Category', categoryId('home')), availableForSale: false })).toEqual(
      only('harbor-tote'),
    );
    expect(await filtered({ categoryId: gid('Category', categoryId('apparel')), query: 'hoodie' })).toEqual(
      only('aurora-hoodie', 'fjord-hoodie'),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// product(...) and the fields of Product and ProductVariant
// ---------------------------------------------------------------------------------------------------------------

const usd = (amount: string) => ({ amount, currencyCode: 'USD' });
const product = async (args: { id?: string; slug?: string }) => (await data(PRODUCT_QUERY, args)).product;

describe('product(...)', () => {
  it('returns every field of a product by slug', async () => {
    expect(await product({ slug: 'aurora-hoodie' })).toEqual({
      id: gid('Product', productId('aurora-hoodie')),
      title: 'Aurora Hoodie',
      slug: 'aurora-hoodie',
      description: 'Warm fleece hoodie.',
      createdAt: '2026-01-01T09:00:00.000Z',
      availableForSale: true,
      priceRange: { minVariantPrice: usd('52.00'), maxVariantPrice: usd('58.00') },
      variants: [
        {
          sku: 'AUR-M',
          title: 'M / Navy',
          availableForSale: true,
          price: usd('52.00'),
          compareAtPrice: null,
          selectedOptions: [
            { name: 'Size', value: 'M' },
            { name: 'Color', value: 'Navy' },
          ],
          product: { slug: 'aurora-hoodie' },
        },
        {
          sku: 'AUR-L',
          title: 'L / Navy',
          availableForSale: false,
          price: usd('58.00'),
          compareAtPrice: null,
          selectedOptions: [
            { name: 'Size', value: 'L' },
            { name: 'Color', value: 'Navy' },
          ],
          product: { slug: 'aurora-hoodie' },
        },
      ],
      categories: [{ slug: 'hoodies', name: 'Hoodies' }],
    });
  });

  it('returns the same product by ID', async () => {
    for (const slug of ['aurora-hoodie', 'glacier-poster']) {
      expect(await product({ id: gid('Product', productId(slug)) })).toEqual(await product({ slug }));
    }
  });

  it('gives compare-at prices and per-variant availability', async () => {
    const tee = await product({ slug: 'basic-tee' });
    expect(tee.priceRange).toEqual({ minVariantPrice: usd('19.99'), maxVariantPrice: usd('19.99') });
    expect(tee.availableForSale).toBe(true);
    expect(
      tee.variants.map((v: any) => ({ sku: v.sku, compareAtPrice: v.compareAtPrice, available: v.availableForSale })),
    ).toEqual([
      { sku: 'TEE-S', compareAtPrice: usd('24.99'), available: true },
      { sku: 'TEE-M', compareAtPrice: null, available: false },
    ]);
    expect(tee.variants[1].title).toBe('M');
  });

  it('is not for sale when every variant is sold out', async () => {
    const dune = await product({ slug: 'dune-graphic-tee' });
    expect(dune.availableForSale).toBe(false);
    expect(dune.priceRange).toEqual({ minVariantPrice: usd('24.99'), maxVariantPrice: usd('24.99') });
    expect(dune.variants[0]).toMatchObject({ sku: 'DUNE', title: 'Default', selectedOptions: [] });
  });

  it('has no price range and is not for sale without variants', async () => {
    expect(await product({ slug: 'glacier-poster' })).toMatchObject({
      priceRange: null,
      availableForSale: false,
      variants: [],
      categories: [],
    });
  });

  it('lists its categories by name', async () => {
    expect((await product({ slug: 'dune-graphic-tee' })).categories).toEqual([
      { slug: 'graphic-tees', name: 'Graphic Tees' },
      { slug: 't-shirts', name: 'T-Shirts' },
    ]);
    expect((await product({ slug: 'ember-mug' })).categories).toEqual([
      { slug: 'home', name: 'Home' },
      { slug: 'kitchen', name: 'Kitchen' },
    ]);
  });

  it('needs exactly one of id and slug', async () => {
    const id = gid('Product', productId('ember-mug'));
    await expectBadUserInput(PRODUCT_QUERY, { id, slug: 'ember-mug' }, /exactly one of `id` and `slug`/);
    await expectBadUserInput(PRODUCT_QUERY, {}, /exactly one of `id` and `slug`/);
  });

  it('is null for an unknown slug or ID, and for an ID of another type', async () => {
    expect(await product({ slug: 'no-such-product' })).toBeNull();
    expect(await product({ id: gid('Product', uuid(999)) })).toBeNull();
    expect(await product({ id: gid('Category', categoryId('apparel')) })).toBeNull();
    expect(await product({ id: gid('Category', productId('ember-mug')) })).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// category(...) and the fields of Category
// ---------------------------------------------------------------------------------------------------------------

const category = async (args: { id?: string; slug?: string }) => (await data(CATEGORY_QUERY, args)).category;

const APPAREL_PRODUCTS = ['aurora-hoodie', 'basic-tee', 'dune-graphic-tee', 'fjord-hoodie', 'basic-tee-organic'];
const HOME_PRODUCTS = ['cedar-candle', 'ember-mug', 'harbor-tote'];

describe('category(...)', () => {
  it('returns a top-level category with its children and the products of its whole subtree', async () => {
    expect(await category({ slug: 'apparel' })).toEqual({
      id: gid('Category', categoryId('apparel')),
      name: 'Apparel',
      slug: 'apparel',
      description: 'All Apparel.',
      parent: null,
      children: [
        { slug: 'hoodies', name: 'Hoodies' },
        { slug: 't-shirts', name: 'T-Shirts' },
      ],
      // dune-graphic-tee is in T-Shirts and in Graphic Tees: listed once
      products: { totalCount: 5, nodes: APPAREL_PRODUCTS.map((slug) => ({ slug })) },
    });
  });

  it('returns a nested category with its ancestors', async () => {
    expect(await category({ slug: 'graphic-tees' })).toMatchObject({
      name: 'Graphic Tees',
      parent: { slug: 't-shirts', parent: { slug: 'apparel', parent: null } },
      children: [],
      products: { totalCount: 1, nodes: [{ slug: 'dune-graphic-tee' }] },
    });
  });

  it('lists a product in a category and in its ancestor once', async () => {
    expect((await category({ slug: 'home' })).products).toEqual({
      totalCount: 3,
      nodes: HOME_PRODUCTS.map((slug) => ({ slug })),
    });
  });

  it('returns the same category by ID', async () => {
    for (const slug of ['apparel', 'graphic-tees', 'books']) {
      expect(await category({ id: gid('Category', categoryId(slug)) })).toEqual(await category({ slug }));
    }
  });

  it('needs exactly one of id and slug', async () => {
    const id = gid('Category', categoryId('home'));
    await expectBadUserInput(CATEGORY_QUERY, { id, slug: 'home' }, /exactly one of `id` and `slug`/);
    await expectBadUserInput(CATEGORY_QUERY, {}, /exactly one of `id` and `slug`/);
  });

  it('is null for an unknown slug or ID, and for an ID of another type', async () => {
    expect(await category({ slug: 'no-such-category' })).toBeNull();
    expect(await category({ id: gid('Category', uuid(999)) })).toBeNull();
    expect(await category({ id: gid('Product', productId('ember-mug')) })).toBeNull();
  });
});

describe('Category.products', () => {
  it.each([1, 2, 5])('pages forward and backward %i at a time through the subtree', async (size) => {
    expect(await pageForward(categoryProducts('apparel'), size)).toEqual(APPAREL_PRODUCTS);
    expect(await pageBackward(categoryProducts('apparel'), size)).toEqual(APPAREL_PRODUCTS);
  });

  it('sorts and reverses, ties broken by ID', async () => {
    const byPrice = ['basic-tee', 'basic-tee-organic', 'dune-graphic-tee', 'fjord-hoodie', 'aurora-hoodie'];
    expect(await pageForward(categoryProducts('apparel', { sortKey: 'PRICE' }), 1)).toEqual(byPrice);
    expect(await pageBackward(categoryProducts('apparel', { sortKey: 'PRICE' }), 2)).toEqual(byPrice);
    expect(await pageForward(categoryProducts('apparel', { sortKey: 'PRICE', reverse: true }), 2)).toEqual(
      [...byPrice].reverse(),
    );
    expect(await pageForward(categoryProducts('apparel', { sortKey: 'TITLE' }), 1)).toEqual([
      'aurora-hoodie',
      'basic-tee-organic',
      'basic-tee',
      'dune-graphic-tee',
      'fjord-hoodie',
    ]);
  });

  it('gives an empty connection for a category without products', async () => {
    expect(await categoryProducts('books')({ first: 5 })).toEqual({
      edges: [],
      nodes: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      totalCount: 0,
    });
  });

  it('pages each category of a list separately', async () => {
    const { categories: list } = await data(`{
      categories(first: 10) {
        nodes { slug products(first: 2) { totalCount nodes { slug } pageInfo { hasNextPage } } }
      }
    }`);
    const summary = (slugs: string[], totalCount: number) => ({
      totalCount,
      nodes: slugs.map((slug) => ({ slug })),
      pageInfo: { hasNextPage: totalCount > 2 },
    });
    expect(Object.fromEntries(list.nodes.map((node: any) => [node.slug, node.products]))).toEqual({
      apparel: summary(['aurora-hoodie', 'basic-tee'], 5),
      books: summary([], 0),
      'graphic-tees': summary(['dune-graphic-tee'], 1),
      home: summary(['cedar-candle', 'ember-mug'], 3),
      hoodies: summary(['aurora-hoodie', 'fjord-hoodie'], 2),
      kitchen: summary(['ember-mug'], 1),
      't-shirts': summary(['basic-tee', 'dune-graphic-tee'], 3),
    });
  });

  it('validates its paging arguments', async () => {
    await expectBadUserInput(CATEGORY_PRODUCTS_QUERY, { slug: 'apparel', first: 101 }, /`first`.*\b100\b/);
    await expectBadUserInput(CATEGORY_PRODUCTS_QUERY, { slug: 'apparel', after: 'garbage' }, /not a cursor/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// categories(...)
// ---------------------------------------------------------------------------------------------------------------

/** All categories by name. */
const BY_NAME = ['apparel', 'books', 'graphic-tees', 'home', 'hoodies', 'kitchen', 't-shirts'];

describe('categories(...)', () => {
  it('lists every category by name', async () => {
    const page = await categories()({ first: 100 });
    expect(slugsOf(page)).toEqual(BY_NAME);
    expect(page.totalCount).toBe(7);
    expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('lists only top-level categories with topLevel: true', async () => {
    const page = await categories({ topLevel: true })({ first: 100 });
    expect(slugsOf(page)).toEqual(['apparel', 'books', 'home']);
    expect(page.totalCount).toBe(3);
  });

  it.each([
    ['apparel', ['hoodies', 't-shirts']],
    ['t-shirts', ['graphic-tees']],
    ['home', ['kitchen']],
    ['books', []],
  ])('lists only the children of %s with parentId', async (parent, expected) => {
    const page = await categories({ parentId: gid('Category', categoryId(parent)) })({ first: 100 });
    expect(slugsOf(page)).toEqual(expected);
    expect(page.totalCount).toBe(expected.length);
  });

  it.each([1, 3])('pages forward and backward %i at a time', async (size) => {
    expect(await pageForward(categories(), size)).toEqual(BY_NAME);
    expect(await pageBackward(categories(), size)).toEqual(BY_NAME);
    expect(await pageForward(categories({ topLevel: true }), size)).toEqual(['apparel', 'books', 'home']);
  });

  it('counts all matching categories on every page', async () => {
    const page = await categories()({ first: 2, after: (await categories()({ first: 2 })).pageInfo.endCursor });
    expect(slugsOf(page)).toEqual(['graphic-tees', 'home']);
    expect(page.totalCount).toBe(7);
  });

  it('rejects parentId together with topLevel: true', async () => {
    const parentId = gid('Category', categoryId('apparel'));
    await expectBadUserInput(CATEGORIES_QUERY, { parentId, topLevel: true }, /`parentId` or `topLevel`/);
  });

  it('rejects a parentId that is not a category ID', async () => {
    await expectBadUserInput(CATEGORIES_QUERY, { parentId: 'garbage' }, /`parentId` is not a valid Category ID/);
    await expectBadUserInput(
      CATEGORIES_QUERY,
      { parentId: gid('Product', productId('ember-mug')) },
      /`parentId` is not a valid Category ID/,
    );
  });

  it('validates its paging arguments', async () => {
    await expectBadUserInput(CATEGORIES_QUERY, { first: 101 }, /`first`.*\b100\b/);
    await expectBadUserInput(CATEGORIES_QUERY, { last: 101 }, /`last`.*\b100\b/);
    await expectBadUserInput(CATEGORIES_QUERY, { first: -1 }, /must not be negative/);
    await expectBadUserInput(CATEGORIES_QUERY, { first: 1, last: 1 }, /not both/);
    await expectBadUserInput(CATEGORIES_QUERY, { after: 'garbage' }, /`after` is not a cursor of this list/);
    await expectBadUserInput(CATEGORIES_QUERY, { after: cursorAt(0) }, /`after` is not a cursor of this list/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// node(id:) and nodes(ids:)
// ---------------------------------------------------------------------------------------------------------------

const variantGid = async (sku: string) =>
  gid('ProductVariant', (await server.prisma.productVariant.findUniqueOrThrow({ where: { sku } })).id);
const node = async (id: string) => (await data(NODE_QUERY, { id })).node;
const nodes = async (ids: string[]) => (await data(NODES_QUERY, { ids })).nodes;

describe('node(id:) and nodes(ids:)', () => {
  it('fetches a Product, a ProductVariant and a Category', async () => {
    const [productGid, variant, categoryGid] = [
      gid('Product', productId('ember-mug')),
      await variantGid('MUG'),
      gid('Category', categoryId('kitchen')),
    ];
    expect(await node(productGid)).toEqual({ __typename: 'Product', id: productGid, slug: 'ember-mug' });
    expect(await node(variant)).toEqual({ __typename: 'ProductVariant', id: variant, sku: 'MUG' });
    expect(await node(categoryGid)).toEqual({ __typename: 'Category', id: categoryGid, slug: 'kitchen' });
  });

  it('is null for a well-formed ID that names nothing', async () => {
    expect(await node(gid('Product', uuid(999)))).toBeNull();
    expect(await node(gid('ProductVariant', productId('ember-mug')))).toBeNull();
    expect(await node(gid('Category', productId('ember-mug')))).toBeNull();
    expect(await node(gid('Order', productId('ember-mug')))).toBeNull();
  });

  // Regression: the type inside an ID was looked up on a plain object, so names inherited from Object.prototype
  // were "found" and called, and the client got an internal server error instead of null.
  it.each(['constructor', 'toString', '__proto__', 'valueOf'])(
    'is null for a well-formed ID of the type "%s"',
    async (type) => {
      const response = await server.gql(NODE_QUERY, { id: gid(type, productId('ember-mug')) });
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({ node: null });
    },
  );

  it.each([
    ['not base64', 'not an id!'],
    ['not a UUID inside', Buffer.from('Product:42').toString('base64url')],
    ['without a type', Buffer.from(`:${uuid(10)}`).toString('base64url')],
    ['not in canonical form', `${gid('Product', productId('ember-mug'))}=`],
  ])('rejects a malformed ID (%s)', async (_, id) => {
    const response = await expectBadUserInput(NODE_QUERY, { id }, /is not a valid ID/);
    expect(response.data).toEqual({ node: null });
  });

  it('fetches many in the order asked, with null for those that do not exist', async () => {
    const ids = [
      gid('Category', categoryId('home')),
      gid('Product', uuid(999)),
      await variantGid('AUR-L'),
      gid('Product', productId('aurora-hoodie')),
      gid('Category', categoryId('home')),
    ];
    expect(await nodes(ids)).toEqual([
      { __typename: 'Category', id: ids[0], slug: 'home' },
      null,
      { __typename: 'ProductVariant', id: ids[2], sku: 'AUR-L' },
      { __typename: 'Product', id: ids[3], slug: 'aurora-hoodie' },
      { __typename: 'Category', id: ids[4], slug: 'home' },
    ]);
    expect(await nodes([])).toEqual([]);
  });

  it('takes at most 100 IDs', async () => {
    const ids = (count: number) => Array.from({ length: count }, (_, i) => gid('Product', PRODUCTS[i % 9]!.id));
    expect(await nodes(ids(100))).toHaveLength(100);
    await expectBadUserInput(NODES_QUERY, { ids: ids(101) }, /At most 100 IDs/);
  });

  it('rejects a malformed ID among many', async () => {
    await expectBadUserInput(
      NODES_QUERY,
      { ids: [gid('Product', productId('ember-mug')), 'garbage'] },
      /not a valid ID/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// SQL injection
// ---------------------------------------------------------------------------------------------------------------

describe('SQL injection attempts', () => {
  const DROP = "'; DROP TABLE product; --";

  it('are plain search words in filter.query', async () => {
    expect(await filtered({ query: DROP })).toEqual(only());
    expect(await productSlugs({ filter: { query: DROP }, sortKey: 'RELEVANCE' })).toEqual([]);
    // quotes are ignored and `or` is the search operator: hoodie, or the word 1
    expect(await filtered({ query: "hoodie' OR '1'='1" })).toEqual(
      only('aurora-hoodie', 'cedar-candle', 'fjord-hoodie'),
    );
    expect(await filtered({ query: 'hoodie\\" & !(:* |' })).toEqual(
      only('aurora-hoodie', 'cedar-candle', 'fjord-hoodie'),
    );
  });

  it('are unknown slugs', async () => {
    expect(await product({ slug: DROP })).toBeNull();
    expect(await product({ slug: "x' OR '1'='1" })).toBeNull();
    expect(await category({ slug: DROP })).toBeNull();
  });

  it('are plain sort values inside a cursor', async () => {
    const after = cursorOf(['TITLE', `x${DROP}`, uuid(10)]);
    expect(slugsOf(await products({ first: 5, after, sortKey: 'TITLE' }))).toEqual([]);
  });

  it('leave every table as it was', async () => {
    const { prisma } = server;
    expect(await prisma.product.count()).toBe(PRODUCTS.length);
    expect(await prisma.productVariant.count()).toBe(PRODUCTS.flatMap((p) => p.variants).length);
    expect(await prisma.category.count()).toBe(CATEGORIES.length);
    expect((await products()).totalCount).toBe(PRODUCTS.length);
  });
});
