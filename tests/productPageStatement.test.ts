// A product page's one statement fetches what the query's selection reads, and no more (the columns and JSON keys
// are captured on the wire); every answer stays whole and equal to what the by-ID loaders give, however listings,
// lookups and nested objects of one operation mix (a row with some columns never reaches a shared loader cache).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalog } from '../src/db/seed/catalog.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;

const MONEY = 'amount currencyCode';
const FULL_CATEGORY = 'fragment FullCategory on Category { id name slug description }';
const FRAGMENTS = `
  ${FULL_CATEGORY}
  fragment FullVariant on ProductVariant {
    id sku title price { ${MONEY} } compareAtPrice { ${MONEY} } selectedOptions { name value } availableForSale
  }
  fragment FullProduct on Product {
    id title slug description createdAt updatedAt availableForSale
    priceRange { minVariantPrice { ${MONEY} } maxVariantPrice { ${MONEY} } }
    variants { ...FullVariant }
    categories { ...FullCategory }
  }`;

/** The page issue 13 measures, and the benchmark's (tests/load/scenarios.ts). */
const ISSUE_PAGE = `{ products(first: 50) { nodes {
  title slug variants { sku price { ${MONEY} } availableForSale } categories { name } } } }`;
const BENCH_PAGE = `{ products(first: 50) { nodes {
  id title slug availableForSale priceRange { minVariantPrice { ${MONEY} } maxVariantPrice { ${MONEY} } }
  variants { id sku title availableForSale price { ${MONEY} } compareAtPrice { ${MONEY} } selectedOptions { name value } }
  categories { id name slug } } } }`;

type Product = Record<string, any>;
/** Every product, whole, by global ID, as node(id:) (the by-ID loaders, no page) gives it. */
const reference = new Map<string, Product>();
/** A product whose categories include a category and its parent. */
let twoLevelProductId: string;

beforeAll(async () => {
  server = await startTestServer({ countStatements: true, env: { MAX_QUERY_COST: '1000000' } });
  await seedCatalog(server.prisma, { products: 60 });
  // One product also listed in the parent of its category: the parent is then both a listed category and a parent.
  const link = await server.prisma.productCategory.findFirstOrThrow({
    where: { category: { parentId: { not: null } } },
    include: { category: true },
    orderBy: { productId: 'asc' },
  });
  await server.prisma.productCategory.create({
    data: { productId: link.productId, categoryId: link.category.parentId! },
  });
  const ids = await gql<{ products: { nodes: { id: string }[] } }>('{ products(first: 100) { nodes { id } } }');
  expect(ids.products.nodes.length).toBe(60);
  const whole = await gql<{ nodes: Product[] }>(
    `query ($ids: [ID!]!) { nodes(ids: $ids) { ...FullProduct } } ${FRAGMENTS}`,
    {
      ids: ids.products.nodes.map((node) => node.id),
    },
  );
  for (const product of whole.nodes) reference.set(product.id, product);
  twoLevelProductId = whole.nodes.find((product) =>
    product.categories.some((category: any) => category.slug === link.category.slug),
  )!.id;
}, 60_000);
afterAll(() => server?.close());

async function gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await server.gql<T>(query, variables);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data!;
}

/** Runs `query` and returns its data and the SELECT statements it cost. */
async function measure<T = any>(query: string, variables?: Record<string, unknown>) {
  server.statements!.reset();
  const data = await gql<T>(query, variables);
  const statements = server.statements!.statements().filter((sql) => /^\s*(WITH|SELECT)\b/i.test(sql));
  return { data, statements };
}

/** The one statement that lists products. */
function pageStatement(statements: string[]): string {
  const pages = statements.filter((sql) => /"sortValue"/.test(sql));
  expect(pages).toHaveLength(1);
  return pages[0]!.replace(/\s+/g, ' ');
}

/** `product` cut down to the fields of `shape` (a product as a query gave it): what the reference says they are. */
function project(whole: any, shape: any): any {
  if (Array.isArray(shape)) return shape.map((item, index) => project(whole[index], item));
  if (shape === null || typeof shape !== 'object') return whole;
  return Object.fromEntries(Object.keys(shape).map((key) => [key, project(whole?.[key], shape[key])]));
}

/** Each listed product (each with `id`) equals the reference's, field by field. */
function expectWhole(products: Product[]): void {
  expect(products.length).toBeGreaterThan(0);
  for (const product of products) expect(product).toEqual(project(reference.get(product.id), product));
}

describe('the product page statement fetches what the selection reads', () => {
  it("the issue's page: title, slug, and the variants' and categories' keys it shows; no description or timestamps", async () => {
    const { data, statements } = await measure(ISSUE_PAGE);
    expect(statements).toHaveLength(1);
    const sql = pageStatement(statements);
    for (const present of ['p.title', 'p.slug', "'sku', v.sku", "'priceAmount'", "'stockOnHand'", "'stockReserved'"]) {
      expect(sql).toContain(present);
    }
    expect(sql).toContain("'name', c.name");
    for (const absent of [
      'p.description',
      '"createdAt"',
      '"updatedAt"',
      'min_price_amount AS',
      "'description'",
      "'createdAt'",
      "'updatedAt'",
      "'productId'",
      "'position'",
      "'compareAtAmount'",
      "'selectedOptions'",
      "'title', v.title",
      "'slug', c.slug",
      "'parentId'",
    ]) {
      expect(sql).not.toContain(absent);
    }
    // the same answer as every product whole, from the by-ID loaders
    const ids = (await gql('{ products(first: 50) { nodes { id } } }')).products.nodes;
    const withIds = data.products.nodes.map((node: Product, index: number) => ({ id: ids[index].id, ...node }));
    expectWhole(withIds);
  });

  it("the benchmark's page: no description, timestamps, variant product IDs or positions", async () => {
    const { data, statements } = await measure(BENCH_PAGE);
    expect(statements).toHaveLength(1);
    const sql = pageStatement(statements);
    for (const present of ["'compareAtAmount'", "'selectedOptions'", "'title', v.title", "'slug', c.slug"]) {
      expect(sql).toContain(present);
    }
    for (const absent of [
      'p.description',
      '"createdAt"',
      "'createdAt'",
      "'description'",
      "'productId'",
      "'position'",
    ]) {
      expect(sql).not.toContain(absent);
    }
    expectWhole(data.products.nodes);
  });

  it('description and timestamps when selected, of the product and of its categories', async () => {
    const { data, statements } = await measure(`{ products(first: 50) { nodes { ...FullProduct } } } ${FRAGMENTS}`);
    expect(statements).toHaveLength(1);
    const sql = pageStatement(statements);
    for (const present of ['p.description', 'p.created_at AS "createdAt"', 'p.updated_at AS "updatedAt"']) {
      expect(sql).toContain(present);
    }
    expect(sql).toContain("'description', c.description");
    // no field reads these, whatever the selection
    for (const absent of ["'createdAt'", "'updatedAt'", "'position'", 'min_price_amount AS']) {
      expect(sql).not.toContain(absent);
    }
    expectWhole(data.products.nodes);
    expect(data.products.nodes).toEqual([...reference.values()].slice(0, 50));
  });

  it('no relation for IDs and cursors; only the prices for priceRange', async () => {
    const ids = await measure('{ products(first: 50) { edges { cursor node { id } } } }');
    const idsSql = pageStatement(ids.statements);
    expect(idsSql).not.toMatch(/json_agg|product_variant|product_category/);
    expect(idsSql).not.toMatch(/p\.(title|slug|description)/);

    const prices = await measure(
      `{ products(first: 50) { nodes { id priceRange { minVariantPrice { ${MONEY} } } } } }`,
    );
    const pricesSql = pageStatement(prices.statements);
    expect(pricesSql).toContain("json_build_object('id', v.id, 'priceAmount', v.price_amount)");
    expect(pricesSql).not.toContain('product_category');
    expectWhole(prices.data.products.nodes);
  });

  it('follows @include with the variables of the request', async () => {
    const query = `query ($full: Boolean!) { products(first: 20) { nodes { id ...FullProduct @include(if: $full) } } }
      ${FRAGMENTS}`;
    const lean = await measure(query, { full: false });
    expect(pageStatement(lean.statements)).not.toContain('p.description');
    expect(lean.data.products.nodes[0]).toEqual({ id: expect.any(String) });
    const full = await measure(query, { full: true });
    expect(pageStatement(full.statements)).toContain('p.description');
    expectWhole(full.data.products.nodes);
  });

  it('cursors and pages are the same whatever the selection', async () => {
    const page = (selection: string, after?: string) =>
      gql(
        `query ($after: String) { products(first: 7, after: $after, sortKey: TITLE) {
        edges { cursor node { ${selection} } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
    const lean = await page('id');
    const full = await page('id title description variants { sku } categories { name }');
    expect(full.products.edges.map((edge: any) => edge.cursor)).toEqual(
      lean.products.edges.map((edge: any) => edge.cursor),
    );
    expect(full.products.pageInfo).toEqual(lean.products.pageInfo);
    const next = await page('id', lean.products.pageInfo.endCursor);
    const nextFull = await page('id slug', full.products.pageInfo.endCursor);
    expect(nextFull.products.edges.map((edge: any) => edge.node.id)).toEqual(
      next.products.edges.map((edge: any) => edge.node.id),
    );
    expectWhole(nextFull.products.edges.map((edge: any) => edge.node));
  });
});

describe('rows with some columns never reach a shared loader cache', () => {
  it('aliases listing the same products with different selections share one statement, and are each whole', async () => {
    const { data, statements } = await measure(`{
      lean: products(first: 30) { nodes { id title } }
      full: products(first: 30) { nodes { ...FullProduct } }
      edges: products(first: 30) { edges { node { id variants { sku } priceRange { maxVariantPrice { amount } } } } }
    } ${FRAGMENTS}`);
    expect(statements).toHaveLength(1);
    expectWhole(data.lean.nodes);
    expectWhole(data.full.nodes);
    expectWhole(data.edges.edges.map((edge: any) => edge.node));
  });

  it('aliases with different arguments: a statement each, each whole', async () => {
    const { data, statements } = await measure(`{
      a: products(first: 10, sortKey: TITLE) { nodes { id slug } }
      b: products(first: 20) { nodes { ...FullProduct } }
    } ${FRAGMENTS}`);
    expect(statements).toHaveLength(2);
    expectWhole(data.a.nodes);
    expectWhole(data.b.nodes);
  });

  it('a listed variant’s product, loaded by ID after the page, is whole', async () => {
    const { data } =
      await measure(`{ products(first: 20) { nodes { id title variants { sku product { ...FullProduct } } } } }
      ${FRAGMENTS}`);
    for (const product of data.products.nodes) {
      for (const variant of product.variants) expect(variant.product).toEqual(reference.get(product.id));
    }
  });

  it('a listed category’s parent, itself a listed category, loaded by ID after the page, is whole', async () => {
    const { data } =
      await measure(`{ products(first: 60) { nodes { id categories { name parent { ...FullCategory } } } } }
      ${FULL_CATEGORY}`);
    const product = data.products.nodes.find((node: Product) => node.id === twoLevelProductId);
    const parent = product.categories.find((category: any) => category.parent !== null).parent;
    const listedParent = reference
      .get(twoLevelProductId)!
      .categories.find((category: any) => category.id === parent.id);
    expect(parent).toEqual(listedParent);
    expect(parent.description).toMatch(/\S/);
  });

  it('product(id:), node(id:) and a variant’s product beside a lean listing are whole', async () => {
    const id = [...reference.keys()][3]!;
    const { data } = await measure(
      `query ($id: ID!) {
        products(first: 10) { nodes { id title variants { sku } } }
        product(id: $id) { ...FullProduct }
        node(id: $id) { ...FullProduct }
        later: products(first: 10) { nodes { variants { product { ...FullProduct variants { ...FullVariant } } } } }
      } ${FRAGMENTS}`,
      { id },
    );
    expect(data.product).toEqual(reference.get(id));
    expect(data.node).toEqual(reference.get(id));
    expectWhole(data.products.nodes);
    for (const node of data.later.nodes) {
      for (const variant of node.variants) expect(variant.product).toEqual(reference.get(variant.product.id));
    }
  });

  it('Category.products in categories, aliased with different selections: one statement for both, each whole', async () => {
    const { data, statements } = await measure(`{
      categories(first: 20) { nodes { slug
        lean: products(first: 3) { nodes { id title } }
        full: products(first: 3) { nodes { ...FullProduct } }
      } }
    } ${FRAGMENTS}`);
    expect(statements.filter((sql) => /"sortValue"/.test(sql))).toHaveLength(1);
    const nodes = data.categories.nodes as any[];
    expect(nodes.some((category) => category.full.nodes.length > 0)).toBe(true);
    for (const category of nodes) {
      expect(category.lean.nodes.map((node: Product) => node.id)).toEqual(
        category.full.nodes.map((node: Product) => node.id),
      );
      if (category.full.nodes.length) {
        expectWhole(category.lean.nodes);
        expectWhole(category.full.nodes);
      }
    }
  });
});
