// The nine staff mutations of the catalog, end to end over HTTP: what a successful change returns and stores, and
// that every expected failure comes back as userErrors with the payload object null and the database untouched.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/globalId.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';
import { catalogState } from './support/catalogState.js';

let server: TestServer;
let staff: string;

beforeAll(async () => {
  server = await startTestServer();
  staff = await server.tokenFor('STAFF');
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL plumbing

const MONEY = 'amount currencyCode';
const VARIANT = `id sku title price { ${MONEY} } compareAtPrice { ${MONEY} } selectedOptions { name value }
  availableForSale product { id }`;
const PRODUCT = `id title slug description createdAt updatedAt categories { id slug } variants { ${VARIANT} }
  priceRange { minVariantPrice { ${MONEY} } maxVariantPrice { ${MONEY} } } availableForSale`;
const CATEGORY = 'id name slug description parent { id } children { id }';

/** Each mutation's input type, the payload field holding its result, and what to select of that result. */
const MUTATIONS = {
  productCreate: { input: 'ProductCreateInput', object: 'product', select: `product { ${PRODUCT} }` },
  productUpdate: { input: 'ProductUpdateInput', object: 'product', select: `product { ${PRODUCT} }` },
  productDelete: { input: 'ProductDeleteInput', object: 'deletedProductId', select: 'deletedProductId' },
  productVariantCreate: {
    input: 'ProductVariantCreateInput',
    object: 'productVariant',
    select: `productVariant { ${VARIANT} }`,
  },
  productVariantUpdate: {
    input: 'ProductVariantUpdateInput',
    object: 'productVariant',
    select: `productVariant { ${VARIANT} }`,
  },
  productVariantDelete: {
    input: 'ProductVariantDeleteInput',
    object: 'deletedProductVariantId',
    select: 'deletedProductVariantId',
  },
  categoryCreate: { input: 'CategoryCreateInput', object: 'category', select: `category { ${CATEGORY} }` },
  categoryUpdate: { input: 'CategoryUpdateInput', object: 'category', select: `category { ${CATEGORY} }` },
  categoryDelete: { input: 'CategoryDeleteInput', object: 'deletedCategoryId', select: 'deletedCategoryId' },
} as const;
type MutationName = keyof typeof MUTATIONS;
type Input = Record<string, unknown>;

/** The text of every response this file received, checked for leaked database errors at the end. */
const responses: string[] = [];

async function send(query: string, variables?: Input, token?: string): Promise<GraphQLResponse> {
  const res = await server.gql(query, variables, token);
  responses.push(JSON.stringify({ data: res.data, errors: res.errors, extensions: res.extensions }));
  return res;
}

function mutate(name: MutationName, input: Input, token = staff): Promise<GraphQLResponse> {
  const { input: type, select } = MUTATIONS[name];
  return send(
    `mutation ($input: ${type}!) { ${name}(input: $input) { ${select} userErrors { field message code } } }`,
    { input },
    token,
  );
}

/** The result object of a mutation that must have succeeded. */
async function succeeds(name: MutationName, input: Input, token = staff): Promise<any> {
  const res = await mutate(name, input, token);
  expect(res.errors).toBeUndefined();
  expect(res.data[name].userErrors).toEqual([]);
  expect(res.data[name][MUTATIONS[name].object]).not.toBeNull();
  return res.data[name][MUTATIONS[name].object];
}

const read = async (query: string, variables?: Input) => {
  const res = await send(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
};

const databaseState = () => catalogState(server.prisma);

interface ExpectedError {
  field: string[];
  code: string;
  message: RegExp;
}

/** Runs a mutation that must fail with exactly these user errors and change nothing. */
async function rejects(name: MutationName, input: Input, expected: ExpectedError[]): Promise<void> {
  const before = await databaseState();
  const res = await mutate(name, input);
  // soft, so that a wrong answer and a changed database are both reported
  expect.soft({ errors: res.errors, data: res.data }).toEqual({
    data: {
      [name]: {
        [MUTATIONS[name].object]: null,
        userErrors: expected.map(({ field, code, message }) => ({
          field,
          code,
          message: expect.stringMatching(message),
        })),
      },
    },
  });
  expect(await databaseState()).toEqual(before);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures, written straight to the database so that they do not depend on the mutations under test

let serial = 0;
const unique = (prefix: string) => `${prefix}-${++serial}`;

async function makeCategory(parentId?: string) {
  const slug = unique('cat');
  const row = await server.prisma.category.create({ data: { name: slug, slug, parentId } });
  return { ...row, gid: toGlobalId('Category', row.id) };
}

async function makeProduct(options: { categoryIds?: string[]; variants?: number } = {}) {
  const slug = unique('product');
  const row = await server.prisma.product.create({
    data: {
      title: slug,
      slug,
      description: 'Fixture.',
      categories: { create: (options.categoryIds ?? []).map((categoryId) => ({ categoryId })) },
      variants: {
        create: Array.from({ length: options.variants ?? 0 }, (_, position) => ({
          sku: unique('SKU'),
          title: `V${position}`,
          priceAmount: 1000 + position,
          selectedOptions: [{ name: 'Size', value: `S${position}` }],
          position,
        })),
      },
    },
    include: { variants: { orderBy: { position: 'asc' } } },
  });
  return {
    ...row,
    gid: toGlobalId('Product', row.id),
    variantGids: row.variants.map((variant) => toGlobalId('ProductVariant', variant.id)),
  };
}

const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const usd = (amount: string) => ({ amount, currencyCode: 'USD' });

// ---------------------------------------------------------------------------------------------------------------

describe('productCreate', () => {
  it('creates a product with its categories and variants, making the slug and variant titles', async () => {
    const tees = await makeCategory();
    const product = await succeeds('productCreate', {
      title: '  Classic Tee  ',
      description: 'Soft cotton.',
      categoryIds: [tees.gid, tees.gid],
      variants: [
        {
          sku: 'TEE-M-NAVY',
          price: '19.99',
          compareAtPrice: '25',
          selectedOptions: [
            { name: 'Size', value: 'M' },
            { name: 'Color', value: 'Navy' },
          ],
          inventoryQuantity: 5,
        },
        { sku: 'TEE-PLAIN', price: '0.5' },
        { sku: 'TEE-NAMED', title: 'Limited', price: '19.990', selectedOptions: [{ name: 'Size', value: 'L' }] },
      ],
    });

    expect(product).toEqual({
      id: expect.any(String),
      title: 'Classic Tee',
      slug: 'classic-tee',
      description: 'Soft cotton.',
      createdAt: expect.stringMatching(ISO_DATE),
      updatedAt: expect.stringMatching(ISO_DATE),
      categories: [{ id: tees.gid, slug: tees.slug }],
      variants: [
        {
          id: expect.any(String),
          sku: 'TEE-M-NAVY',
          title: 'M / Navy',
          price: usd('19.99'),
          compareAtPrice: usd('25.00'),
          selectedOptions: [
            { name: 'Size', value: 'M' },
            { name: 'Color', value: 'Navy' },
          ],
          availableForSale: true,
          product: { id: product.id },
        },
        {
          id: expect.any(String),
          sku: 'TEE-PLAIN',
          title: 'Default',
          price: usd('0.50'),
          compareAtPrice: null,
          selectedOptions: [],
          availableForSale: false,
          product: { id: product.id },
        },
        {
          id: expect.any(String),
          sku: 'TEE-NAMED',
          title: 'Limited',
          price: usd('19.99'),
          compareAtPrice: null,
          selectedOptions: [{ name: 'Size', value: 'L' }],
          availableForSale: false,
          product: { id: product.id },
        },
      ],
      priceRange: { minVariantPrice: usd('0.50'), maxVariantPrice: usd('19.99') },
      availableForSale: true,
    });

    // stored in minor units, in the order given
    const stored = await server.prisma.productVariant.findMany({
      where: { product: { slug: 'classic-tee' } },
      orderBy: { position: 'asc' },
    });
    expect(stored.map((v) => [v.sku, v.priceAmount, v.compareAtAmount, v.stockOnHand, v.position])).toEqual([
      ['TEE-M-NAVY', 1999, 2500, 5, 0],
      ['TEE-PLAIN', 50, null, 0, 1],
      ['TEE-NAMED', 1999, null, 0, 2],
    ]);
    expect(await read('query ($slug: String!) { product(slug: $slug) { id } }', { slug: 'classic-tee' })).toEqual({
      product: { id: product.id },
    });
  });

  it('keeps a given slug, and defaults the description, categories and variants to empty', async () => {
    const product = await succeeds('productCreate', { title: 'Plain Mug', slug: 'mug-2' });
    expect(product).toMatchObject({
      title: 'Plain Mug',
      slug: 'mug-2',
      description: '',
      categories: [],
      variants: [],
      priceRange: null,
      availableForSale: false,
    });
  });

  it('lets an ADMIN create too', async () => {
    const admin = await server.tokenFor('ADMIN');
    expect(await succeeds('productCreate', { title: 'Admin Made' }, admin)).toMatchObject({ slug: 'admin-made' });
  });
});

describe('productUpdate', () => {
  it('changes only the fields given', async () => {
    const category = await makeCategory();
    const fixture = await makeProduct({ categoryIds: [category.id], variants: 1 });
    const before = await read(`query ($id: ID!) { product(id: $id) { ${PRODUCT} } }`, { id: fixture.gid });

    const product = await succeeds('productUpdate', { id: fixture.gid, title: 'Renamed Tee' });

    expect(product).toEqual({ ...before.product, title: 'Renamed Tee', updatedAt: expect.stringMatching(ISO_DATE) });
    expect(product.categories).toEqual([{ id: category.gid, slug: category.slug }]);
    expect(Date.parse(product.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.product.updatedAt));
  });

  it('changes the slug and description', async () => {
    const fixture = await makeProduct();
    const product = await succeeds('productUpdate', { id: fixture.gid, slug: 'fresh-slug', description: 'New words.' });
    expect(product).toMatchObject({ title: fixture.title, slug: 'fresh-slug', description: 'New words.' });
  });

  it('replaces the categories with categoryIds, and clears them with an empty list', async () => {
    const [a, b, c] = [await makeCategory(), await makeCategory(), await makeCategory()];
    const fixture = await makeProduct({ categoryIds: [a.id, b.id] });

    const moved = await succeeds('productUpdate', { id: fixture.gid, categoryIds: [c.gid, b.gid] });
    expect(moved.categories.map((x: { id: string }) => x.id)).toEqual([b.gid, c.gid]); // by name
    const links = await server.prisma.productCategory.findMany({ where: { productId: fixture.id } });
    expect(links.map((l) => l.categoryId).sort()).toEqual([b.id, c.id].sort());

    const cleared = await succeeds('productUpdate', { id: fixture.gid, categoryIds: [] });
    expect(cleared.categories).toEqual([]);
    expect(await server.prisma.productCategory.count({ where: { productId: fixture.id } })).toBe(0);
  });
});

describe('productDelete', () => {
  it('deletes the product and its variants, and leaves its categories', async () => {
    const category = await makeCategory();
    const fixture = await makeProduct({ categoryIds: [category.id], variants: 2 });

    expect(await succeeds('productDelete', { id: fixture.gid })).toBe(fixture.gid);

    expect(
      await read('query ($ids: [ID!]!, $id: ID!) { nodes(ids: $ids) { id } product(id: $id) { id } }', {
        ids: [fixture.gid, ...fixture.variantGids],
        id: fixture.gid,
      }),
    ).toEqual({ nodes: [null, null, null], product: null });
    expect(await server.prisma.productVariant.count({ where: { productId: fixture.id } })).toBe(0);
    expect(await server.prisma.category.findUnique({ where: { id: category.id } })).not.toBeNull();
  });
});

describe('productVariantCreate', () => {
  it('adds a variant after the existing ones, titled from its option values', async () => {
    const fixture = await makeProduct({ variants: 1 });
    const variant = await succeeds('productVariantCreate', {
      productId: fixture.gid,
      sku: 'ADD-S-RED',
      price: '5',
      compareAtPrice: '7.5',
      selectedOptions: [
        { name: 'Size', value: 'S' },
        { name: 'Color', value: 'Red' },
      ],
      inventoryQuantity: 3,
    });
    expect(variant).toEqual({
      id: expect.any(String),
      sku: 'ADD-S-RED',
      title: 'S / Red',
      price: usd('5.00'),
      compareAtPrice: usd('7.50'),
      selectedOptions: [
        { name: 'Size', value: 'S' },
        { name: 'Color', value: 'Red' },
      ],
      availableForSale: true,
      product: { id: fixture.gid },
    });
    const { product } = await read('query ($id: ID!) { product(id: $id) { variants { id } } }', { id: fixture.gid });
    expect(product.variants).toEqual([{ id: fixture.variantGids[0] }, { id: variant.id }]);
  });

  it('titles a variant without options "Default" and keeps an explicit title', async () => {
    const fixture = await makeProduct();
    expect(
      await succeeds('productVariantCreate', { productId: fixture.gid, sku: 'PLAIN-1', price: '1' }),
    ).toMatchObject({
      title: 'Default',
      selectedOptions: [],
      availableForSale: false,
      compareAtPrice: null,
    });
    expect(
      await succeeds('productVariantCreate', { productId: fixture.gid, sku: 'PLAIN-2', title: 'Gift', price: '0' }),
    ).toMatchObject({ title: 'Gift', price: usd('0.00') });
  });
});

describe('productVariantUpdate', () => {
  it('changes only the fields given', async () => {
    const fixture = await makeProduct();
    const original = await succeeds('productVariantCreate', {
      productId: fixture.gid,
      sku: 'UPD-1',
      price: '10',
      compareAtPrice: '12',
      selectedOptions: [{ name: 'Size', value: 'M' }],
      inventoryQuantity: 1,
    });
    expect(await succeeds('productVariantUpdate', { id: original.id, price: '9.5' })).toEqual({
      ...original,
      price: usd('9.50'),
    });
    expect(
      await succeeds('productVariantUpdate', {
        id: original.id,
        sku: 'UPD-1B',
        title: 'Medium',
        selectedOptions: [{ name: 'Fit', value: 'Slim' }],
      }),
    ).toEqual({
      ...original,
      sku: 'UPD-1B',
      title: 'Medium',
      price: usd('9.50'),
      selectedOptions: [{ name: 'Fit', value: 'Slim' }],
    });
  });

  it('clears the compare-at price with null', async () => {
    const fixture = await makeProduct();
    const { id } = await succeeds('productVariantCreate', {
      productId: fixture.gid,
      sku: 'CLR-1',
      price: '10',
      compareAtPrice: '12',
    });
    expect(await succeeds('productVariantUpdate', { id, compareAtPrice: null })).toMatchObject({
      price: usd('10.00'),
      compareAtPrice: null,
    });
    expect(await server.prisma.productVariant.findUnique({ where: { sku: 'CLR-1' } })).toMatchObject({
      priceAmount: 1000,
      compareAtAmount: null,
    });
  });
});

describe('productVariantDelete', () => {
  it('deletes the variant and keeps the product and its other variants', async () => {
    const fixture = await makeProduct({ variants: 2 });
    expect(await succeeds('productVariantDelete', { id: fixture.variantGids[0] })).toBe(fixture.variantGids[0]);
    expect(
      await read('query ($v: ID!, $p: ID!) { node(id: $v) { id } product(id: $p) { variants { id } } }', {
        v: fixture.variantGids[0],
        p: fixture.gid,
      }),
    ).toEqual({ node: null, product: { variants: [{ id: fixture.variantGids[1] }] } });
  });
});

describe('categoryCreate', () => {
  it('creates a top-level category with a slug made from the name', async () => {
    expect(await succeeds('categoryCreate', { name: 'Summer Sale' })).toEqual({
      id: expect.any(String),
      name: 'Summer Sale',
      slug: 'summer-sale',
      description: '',
      parent: null,
      children: [],
    });
  });

  it('creates a category under a parent', async () => {
    const parent = await makeCategory();
    const child = await succeeds('categoryCreate', {
      name: 'Rain Jackets',
      slug: 'rain',
      description: 'Wet days.',
      parentId: parent.gid,
    });
    expect(child).toMatchObject({ slug: 'rain', description: 'Wet days.', parent: { id: parent.gid } });
    const { category } = await read('query ($id: ID!) { category(id: $id) { children { id } } }', { id: parent.gid });
    expect(category.children).toEqual([{ id: child.id }]);
  });
});

describe('categoryUpdate', () => {
  it('renames a category and keeps its slug, description and parent', async () => {
    const parent = await makeCategory();
    const fixture = await makeCategory(parent.id);
    expect(await succeeds('categoryUpdate', { id: fixture.gid, name: 'Renamed' })).toEqual({
      id: fixture.gid,
      name: 'Renamed',
      slug: fixture.slug,
      description: '',
      parent: { id: parent.gid },
      children: [],
    });
  });

  it('moves a category under another parent, and to the top level with parentId null', async () => {
    const [from, to] = [await makeCategory(), await makeCategory()];
    const fixture = await makeCategory(from.id);
    expect(await succeeds('categoryUpdate', { id: fixture.gid, parentId: to.gid })).toMatchObject({
      parent: { id: to.gid },
    });
    expect(await succeeds('categoryUpdate', { id: fixture.gid, parentId: null, slug: 'moved-top' })).toMatchObject({
      slug: 'moved-top',
      parent: null,
    });
    expect(await server.prisma.category.findUnique({ where: { id: fixture.id } })).toMatchObject({ parentId: null });
  });
});

describe('categoryDelete', () => {
  it('deletes a leaf category and keeps its products', async () => {
    const [leaf, kept] = [await makeCategory(), await makeCategory()];
    const product = await makeProduct({ categoryIds: [leaf.id, kept.id] });

    expect(await succeeds('categoryDelete', { id: leaf.gid })).toBe(leaf.gid);

    expect(
      await read('query ($c: ID!, $p: ID!) { category(id: $c) { id } product(id: $p) { id categories { id } } }', {
        c: leaf.gid,
        p: product.gid,
      }),
    ).toEqual({ category: null, product: { id: product.gid, categories: [{ id: kept.gid }] } });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('expected failures: user errors, a null payload object and no change', () => {
  /** Objects the failing mutations aim at; none of the cases may change them. */
  let w: {
    root: Awaited<ReturnType<typeof makeCategory>>;
    child: Awaited<ReturnType<typeof makeCategory>>;
    grandchild: Awaited<ReturnType<typeof makeCategory>>;
    other: Awaited<ReturnType<typeof makeCategory>>;
    product: Awaited<ReturnType<typeof makeProduct>>;
    second: Awaited<ReturnType<typeof makeProduct>>;
  };

  beforeAll(async () => {
    const root = await makeCategory();
    const child = await makeCategory(root.id);
    const grandchild = await makeCategory(child.id);
    const other = await makeCategory();
    const product = await makeProduct({ categoryIds: [other.id], variants: 2 });
    const second = await makeProduct({ variants: 1 });
    w = { root, child, grandchild, other, product, second };
  });

  const err = (field: string[], code: string, message: RegExp): ExpectedError => ({ field, code, message });
  const variant = (fields: Input = {}) => ({ sku: unique('NEW'), price: '1.00', ...fields });
  const fourOptions = ['A', 'B', 'C', 'D'].map((name) => ({ name, value: 'x' }));
  const sameNames = [
    { name: 'Size', value: 'S' },
    { name: 'size', value: 'M' },
  ];

  const cases: [string, MutationName, (world: typeof w) => Input, ExpectedError[]][] = [
    // blank and malformed values
    [
      'productCreate: blank title',
      'productCreate',
      () => ({ title: '   ' }),
      [err(['input', 'title'], 'BLANK', /blank/)],
    ],
    [
      'productUpdate: blank title',
      'productUpdate',
      () => ({ id: w.product.gid, title: '' }),
      [err(['input', 'title'], 'BLANK', /blank/)],
    ],
    ['categoryCreate: blank name', 'categoryCreate', () => ({ name: ' ' }), [err(['input', 'name'], 'BLANK', /blank/)]],
    [
      'categoryUpdate: blank name',
      'categoryUpdate',
      () => ({ id: w.root.gid, name: '' }),
      [err(['input', 'name'], 'BLANK', /blank/)],
    ],
    [
      'productVariantCreate: blank SKU',
      'productVariantCreate',
      () => ({ productId: w.product.gid, sku: ' ', price: '1' }),
      [err(['input', 'sku'], 'BLANK', /blank/)],
    ],
    [
      'productCreate: slug not in slug form',
      'productCreate',
      () => ({ title: 'Fine', slug: 'Not A Slug' }),
      [err(['input', 'slug'], 'INVALID', /lowercase/)],
    ],
    // prices
    [
      'productCreate: negative variant price',
      'productCreate',
      () => ({ title: 'Neg', variants: [variant({ price: '-1' })] }),
      [err(['input', 'variants', '0', 'price'], 'INVALID', /negative/)],
    ],
    [
      'productCreate: price with 3 decimals in USD',
      'productCreate',
      () => ({ title: 'Dec', variants: [variant(), variant({ price: '1.999' })] }),
      [err(['input', 'variants', '1', 'price'], 'INVALID', /decimal places/)],
    ],
    [
      'productVariantCreate: negative price',
      'productVariantCreate',
      () => ({ productId: w.product.gid, ...variant({ price: '-0.01' }) }),
      [err(['input', 'price'], 'INVALID', /negative/)],
    ],
    [
      'productVariantCreate: price with 3 decimals',
      'productVariantCreate',
      () => ({ productId: w.product.gid, ...variant({ price: '1.999' }) }),
      [err(['input', 'price'], 'INVALID', /decimal places/)],
    ],
    [
      'productVariantCreate: negative compare-at price',
      'productVariantCreate',
      () => ({ productId: w.product.gid, ...variant({ compareAtPrice: '-5' }) }),
      [err(['input', 'compareAtPrice'], 'INVALID', /negative/)],
    ],
    [
      'productVariantUpdate: negative price',
      'productVariantUpdate',
      () => ({ id: w.product.variantGids[0], price: '-1' }),
      [err(['input', 'price'], 'INVALID', /negative/)],
    ],
    [
      'productVariantUpdate: compare-at price with 3 decimals',
      'productVariantUpdate',
      () => ({ id: w.product.variantGids[0], compareAtPrice: '1.999' }),
      [err(['input', 'compareAtPrice'], 'INVALID', /decimal places/)],
    ],
    [
      'productVariantCreate: price above the maximum',
      'productVariantCreate',
      () => ({ productId: w.product.gid, ...variant({ price: '21474836.48' }) }),
      [err(['input', 'price'], 'INVALID', /too large/)],
    ],
    // options
    [
      'productVariantCreate: more than 3 options',
      'productVariantCreate',
      () => ({ productId: w.product.gid, ...variant({ selectedOptions: fourOptions }) }),
      [err(['input', 'selectedOptions'], 'INVALID', /at most 3 options/)],
    ],
    [
      'productVariantCreate: duplicate option names',
      'productVariantCreate',
      () => ({ productId: w.product.gid, ...variant({ selectedOptions: sameNames }) }),
      [err(['input', 'selectedOptions'], 'INVALID', /different/)],
    ],
    [
      'productVariantUpdate: more than 3 options',
      'productVariantUpdate',
      () => ({ id: w.product.variantGids[0], selectedOptions: fourOptions }),
      [err(['input', 'selectedOptions'], 'INVALID', /at most 3 options/)],
    ],
    [
      'productVariantUpdate: duplicate option names',
      'productVariantUpdate',
      () => ({ id: w.product.variantGids[0], selectedOptions: sameNames }),
      [err(['input', 'selectedOptions'], 'INVALID', /different/)],
    ],
    [
      'productCreate: a variant with more than 3 options',
      'productCreate',
      () => ({ title: 'Opt', variants: [variant({ selectedOptions: fourOptions })] }),
      [err(['input', 'variants', '0', 'selectedOptions'], 'INVALID', /at most 3 options/)],
    ],
    // uniqueness
    [
      'productCreate: slug taken',
      'productCreate',
      () => ({ title: 'Copy', slug: w.product.slug }),
      [err(['input', 'slug'], 'TAKEN', /already in use/)],
    ],
    [
      'productCreate: slug made from the title taken',
      'productCreate',
      () => ({ title: w.product.slug.toUpperCase() }),
      [err(['input', 'slug'], 'TAKEN', /already in use/)],
    ],
    [
      'productUpdate: slug taken',
      'productUpdate',
      () => ({ id: w.second.gid, slug: w.product.slug }),
      [err(['input', 'slug'], 'TAKEN', /already in use/)],
    ],
    [
      'productUpdate: slug taken, together with new categories',
      'productUpdate',
      () => ({ id: w.product.gid, slug: w.second.slug, categoryIds: [w.root.gid] }),
      [err(['input', 'slug'], 'TAKEN', /already in use/)],
    ],
    [
      'categoryCreate: slug taken',
      'categoryCreate',
      () => ({ name: 'Copy', slug: w.root.slug }),
      [err(['input', 'slug'], 'TAKEN', /already in use/)],
    ],
    [
      'categoryUpdate: slug taken',
      'categoryUpdate',
      () => ({ id: w.other.gid, slug: w.root.slug }),
      [err(['input', 'slug'], 'TAKEN', /already in use/)],
    ],
    [
      'productVariantCreate: SKU taken',
      'productVariantCreate',
      () => ({ productId: w.second.gid, sku: w.product.variants[0]!.sku, price: '1' }),
      [err(['input', 'sku'], 'TAKEN', /already in use/)],
    ],
    [
      'productVariantUpdate: SKU taken',
      'productVariantUpdate',
      () => ({ id: w.second.variantGids[0], sku: w.product.variants[1]!.sku }),
      [err(['input', 'sku'], 'TAKEN', /already in use/)],
    ],
    [
      'productCreate: a variant SKU taken',
      'productCreate',
      () => ({ title: 'Sku Clash', variants: [variant(), variant({ sku: w.product.variants[0]!.sku })] }),
      [err(['input', 'variants'], 'TAKEN', /already in use/)],
    ],
    [
      'productCreate: two variants with one SKU',
      'productCreate',
      () => ({ title: 'Twins', variants: [variant({ sku: 'TWIN' }), variant({ sku: 'TWIN' })] }),
      [err(['input', 'variants'], 'TAKEN', /already in use/)],
    ],
    // the category tree
    [
      'categoryUpdate: moved under itself',
      'categoryUpdate',
      () => ({ id: w.root.gid, parentId: w.root.gid }),
      [err(['input', 'parentId'], 'INVALID', /under itself or its descendants/)],
    ],
    [
      'categoryUpdate: moved under its child',
      'categoryUpdate',
      () => ({ id: w.root.gid, parentId: w.child.gid }),
      [err(['input', 'parentId'], 'INVALID', /under itself or its descendants/)],
    ],
    [
      'categoryUpdate: moved under its grandchild, with a rename',
      'categoryUpdate',
      () => ({ id: w.root.gid, name: 'Loop', parentId: w.grandchild.gid }),
      [err(['input', 'parentId'], 'INVALID', /under itself or its descendants/)],
    ],
    [
      'categoryDelete: a category with children',
      'categoryDelete',
      () => ({ id: w.child.gid }),
      [err(['input', 'id'], 'CONFLICT', /categories under this one/)],
    ],
  ];

  it.each(cases)('%s', async (_, name, input, expected) => {
    await rejects(name, input(w), expected);
  });

  // Every ID argument, given an ID that names nothing: a well-formed ID of the right type that is not there, one of
  // an existing object of another type, a string that is no ID, and an empty string.
  const badIds: [string, (world: typeof w, type: string) => string][] = [
    ['unknown', (_, type) => toGlobalId(type, randomUUID())],
    ['of another type', (world, type) => (type === 'Product' ? world.product.variantGids[0]! : world.product.gid)],
    ['malformed', () => 'not-an-id'],
    ['empty', () => ''],
  ];
  const idArguments: [MutationName, string, (world: typeof w, id: string) => Input, string[], RegExp][] = [
    ['productUpdate', 'Product', (_, id) => ({ id, title: 'X' }), ['input', 'id'], /No product/],
    ['productDelete', 'Product', (_, id) => ({ id }), ['input', 'id'], /No product/],
    [
      'productVariantCreate',
      'Product',
      (_, productId) => ({ productId, sku: 'ORPHAN', price: '1' }),
      ['input', 'productId'],
      /No product/,
    ],
    ['productVariantUpdate', 'ProductVariant', (_, id) => ({ id, price: '2' }), ['input', 'id'], /No variant/],
    ['productVariantDelete', 'ProductVariant', (_, id) => ({ id }), ['input', 'id'], /No variant/],
    [
      'categoryCreate',
      'Category',
      (_, parentId) => ({ name: 'Stray', parentId }),
      ['input', 'parentId'],
      /No category/,
    ],
    ['categoryUpdate', 'Category', (_, id) => ({ id, name: 'X' }), ['input', 'id'], /No category/],
    [
      'categoryUpdate',
      'Category',
      (world, parentId) => ({ id: world.other.gid, parentId }),
      ['input', 'parentId'],
      /No category/,
    ],
    ['categoryDelete', 'Category', (_, id) => ({ id }), ['input', 'id'], /No category/],
    [
      'productCreate',
      'Category',
      (_, id) => ({ title: 'Lost', categoryIds: [id] }),
      ['input', 'categoryIds', '0'],
      /No category/,
    ],
    [
      'productUpdate',
      'Category',
      (world, id) => ({ id: world.product.gid, categoryIds: [world.root.gid, id] }),
      ['input', 'categoryIds', '1'],
      /No category/,
    ],
  ];
  const idCases = idArguments.flatMap(([name, type, input, field, message]) =>
    badIds.map(([kind, id]) => ({ name, kind, type, input, field, message, id, path: field.slice(1).join('.') })),
  );

  it.each(idCases)('$name: $kind ID in $path is NOT_FOUND', async ({ name, type, input, field, message, id }) => {
    await rejects(name, input(w, id(w, type)), [err(field, 'NOT_FOUND', message)]);
  });
});

describe('input the database would refuse', () => {
  // A title with nothing to make a slug from gives an empty slug, which breaks the slug rule (and the next such
  // title then collides with it). The mutation must either make a valid slug or report a user error.
  it.each([
    ['productCreate', { title: '!!!' }],
    ['categoryCreate', { name: '¿?' }],
  ] as const)('%s never stores an empty slug', async (name, input) => {
    const res = await mutate(name, input);
    expect(res.errors).toBeUndefined();
    const { userErrors, [MUTATIONS[name].object]: created } = res.data[name];
    if (created) expect(created.slug).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    else expect(userErrors).not.toEqual([]);
    expect(await server.prisma.product.count({ where: { slug: '' } })).toBe(0);
    expect(await server.prisma.category.count({ where: { slug: '' } })).toBe(0);
  });

  it('turns away a NUL character anywhere in the input as BAD_USER_INPUT, before anything runs', async () => {
    const before = await databaseState();
    const res = await mutate('productCreate', { title: 'Tee\u0000' });
    expect(res.status).toBe(400);
    expect(res.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(res.data).toBeUndefined();
    expect(await databaseState()).toEqual(before);
  });
});

describe('database errors', () => {
  it('never reach a response', async () => {
    // provoke more: a raw invalid UUID, a NUL byte, and unique violations
    await mutate('categoryCreate', { name: 'Nul\u0000' });
    await mutate('productVariantUpdate', { id: toGlobalId('ProductVariant', randomUUID()), sku: 'X\u0000' });
    const first = await mutate('productCreate', { title: 'Twice Over' });
    expect(first.data.productCreate.userErrors).toEqual([]);
    await mutate('productCreate', { title: 'Twice Over' });

    expect(responses.length).toBeGreaterThanOrEqual(5);
    const leaks = responses.filter((text) => /prisma|constraint|duplicate key|sql/i.test(text));
    expect(leaks).toEqual([]);
  });
});
