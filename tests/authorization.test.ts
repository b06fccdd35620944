// Who may do what: the nine staff mutations against each kind of viewer, public reads, and access tokens that
// must not be believed.
import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/auth/passwords.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { commerce } from './support/commerce.js';
import { startTestServer, TEST_SECRET, type TestServer } from './support/testServer.js';
import { catalogState } from './support/catalogState.js';

let server: TestServer;
const tokens: Record<'CUSTOMER' | 'STAFF' | 'ADMIN', string> = { CUSTOMER: '', STAFF: '', ADMIN: '' };
let shop: ReturnType<typeof commerce>;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  for (const role of ['CUSTOMER', 'STAFF', 'ADMIN'] as const) tokens[role] = await server.tokenFor(role);
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// Fixtures, written straight to the database

let serial = 0;
const unique = (prefix: string) => `${prefix}-${++serial}`;

async function makeCategory() {
  const slug = unique('cat');
  return toGlobalId('Category', (await server.prisma.category.create({ data: { name: slug, slug } })).id);
}

async function makeProduct() {
  const slug = unique('product');
  return toGlobalId('Product', (await server.prisma.product.create({ data: { title: slug, slug } })).id);
}

const databaseState = () => catalogState(server.prisma);

// ---------------------------------------------------------------------------------------------------------------

/** Each staff mutation with an input that succeeds for staff, so that a denial is what stops it. */
const MUTATIONS = [
  {
    name: 'productCreate',
    type: 'ProductCreateInput',
    object: 'product { id }',
    input: async () => ({ title: unique('Made') }),
  },
  {
    name: 'productUpdate',
    type: 'ProductUpdateInput',
    object: 'product { id }',
    input: async () => ({ id: await makeProduct(), title: 'Changed' }),
  },
  {
    name: 'productDelete',
    type: 'ProductDeleteInput',
    object: 'deletedProductId',
    input: async () => ({ id: await makeProduct() }),
  },
  {
    name: 'productVariantCreate',
    type: 'ProductVariantCreateInput',
    object: 'productVariant { id }',
    input: async () => ({ productId: await makeProduct(), sku: unique('NEW'), price: '1.00' }),
  },
  {
    name: 'productVariantUpdate',
    type: 'ProductVariantUpdateInput',
    object: 'productVariant { id }',
    input: async () => ({ id: (await shop.variant({ price: 100, stock: 0 })).gid, price: '2.00' }),
  },
  {
    name: 'productVariantDelete',
    type: 'ProductVariantDeleteInput',
    object: 'deletedProductVariantId',
    input: async () => ({ id: (await shop.variant({ price: 100, stock: 0 })).gid }),
  },
  {
    name: 'categoryCreate',
    type: 'CategoryCreateInput',
    object: 'category { id }',
    input: async () => ({ name: unique('Cat') }),
  },
  {
    name: 'categoryUpdate',
    type: 'CategoryUpdateInput',
    object: 'category { id }',
    input: async () => ({ id: await makeCategory(), name: 'Changed' }),
  },
  {
    name: 'categoryDelete',
    type: 'CategoryDeleteInput',
    object: 'deletedCategoryId',
    input: async () => ({ id: await makeCategory() }),
  },
];

const documentFor = ({ name, type, object }: (typeof MUTATIONS)[number]) =>
  `mutation ($input: ${type}!) { ${name}(input: $input) { ${object} userErrors { field message code } } }`;

describe('staff mutations', () => {
  const denials = MUTATIONS.flatMap((mutation) => [
    {
      ...mutation,
      viewer: 'anonymous',
      role: null,
      code: 'UNAUTHENTICATED',
      message: 'You must be signed in to do this.',
    },
    {
      ...mutation,
      viewer: 'a customer',
      role: 'CUSTOMER' as const,
      code: 'FORBIDDEN',
      message: 'You are not allowed to do this.',
    },
  ]);

  it.each(denials)('$name: $viewer is refused with $code and nothing is written', async (mutation) => {
    const input = await mutation.input();
    const before = await databaseState();

    const res = await server.gql(documentFor(mutation), { input }, mutation.role ? tokens[mutation.role] : undefined);

    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    // exactly this and nothing more: no stack trace, no rule names, no detail
    expect(res.errors).toEqual([
      {
        message: mutation.message,
        locations: [{ line: 1, column: expect.any(Number) }],
        path: [mutation.name],
        extensions: { code: mutation.code },
      },
    ]);
    expect(await databaseState()).toEqual(before);
  });

  const allowed = MUTATIONS.flatMap((mutation) => (['STAFF', 'ADMIN'] as const).map((role) => ({ ...mutation, role })));

  it.each(allowed)('$name: $role is allowed', async (mutation) => {
    const res = await server.gql(documentFor(mutation), { input: await mutation.input() }, tokens[mutation.role]);
    expect(res.errors).toBeUndefined();
    expect(res.data[mutation.name].userErrors).toEqual([]);
    expect(res.data[mutation.name][mutation.object.split(' ')[0]!]).not.toBeNull();
  });

  it('a denial reveals nothing about the rules or the code', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.CUSTOMER}` },
      body: JSON.stringify({ query: 'mutation { categoryDelete(input: { id: "x" }) { deletedCategoryId } }' }),
    });
    const text = await response.text();
    expect(JSON.parse(text).errors[0].extensions).toEqual({ code: 'FORBIDDEN' });
    expect(text).not.toMatch(/stack|isStaff|shield|rule|node_modules|\.ts\b|\.js\b/i);
  });
});

describe('public reads', () => {
  let ids: { root: string; leaf: string; product: string; variant: string };

  beforeAll(async () => {
    const root = await server.prisma.category.create({ data: { name: 'Outdoor', slug: 'outdoor' } });
    const leaf = await server.prisma.category.create({ data: { name: 'Tents', slug: 'tents', parentId: root.id } });
    const product = await server.prisma.product.create({
      data: {
        title: 'Trail Tent',
        slug: 'trail-tent',
        description: 'Two people.',
        categories: { create: { categoryId: leaf.id } },
        variants: {
          create: {
            sku: 'TENT-2P',
            title: 'Green',
            priceAmount: 19900,
            compareAtAmount: 24900,
            stockOnHand: 3,
            selectedOptions: [{ name: 'Color', value: 'Green' }],
          },
        },
      },
      include: { variants: true },
    });
    ids = {
      root: toGlobalId('Category', root.id),
      leaf: toGlobalId('Category', leaf.id),
      product: toGlobalId('Product', product.id),
      variant: toGlobalId('ProductVariant', product.variants[0]!.id),
    };
  });

  const QUERY = `query ($root: ID!, $leaf: ID!, $product: ID!, $variant: ID!) {
    products(first: 5, filter: { query: "trail" }) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage }
      edges { node { id } }
      nodes {
        id title slug description availableForSale
        categories { id name }
        priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { amount currencyCode } }
        variants {
          id sku title availableForSale
          price { amount currencyCode } compareAtPrice { amount currencyCode } selectedOptions { name value }
          product { id }
        }
      }
    }
    bySlug: product(slug: "trail-tent") { id }
    byId: product(id: $product) { slug }
    categories(parentId: $root) { totalCount nodes { id slug parent { id } children { id } products(first: 5) { totalCount } } }
    category(slug: "outdoor") { id name children { id } products { nodes { id } } }
    node(id: $variant) { id ... on ProductVariant { sku } }
    nodes(ids: [$leaf, $product]) { id }
  }`;

  it.each([
    ['anonymously', undefined],
    ['with a customer token', 'CUSTOMER'],
  ] as const)('work %s', async (_, role) => {
    const res = await server.gql(QUERY, ids, role && tokens[role]);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: {
        totalCount: 1,
        pageInfo: { hasNextPage: false, hasPreviousPage: false },
        edges: [{ node: { id: ids.product } }],
        nodes: [
          {
            id: ids.product,
            title: 'Trail Tent',
            slug: 'trail-tent',
            description: 'Two people.',
            availableForSale: true,
            categories: [{ id: ids.leaf, name: 'Tents' }],
            priceRange: {
              minVariantPrice: { amount: '199.00', currencyCode: 'USD' },
              maxVariantPrice: { amount: '199.00', currencyCode: 'USD' },
            },
            variants: [
              {
                id: ids.variant,
                sku: 'TENT-2P',
                title: 'Green',
                availableForSale: true,
                price: { amount: '199.00', currencyCode: 'USD' },
                compareAtPrice: { amount: '249.00', currencyCode: 'USD' },
                selectedOptions: [{ name: 'Color', value: 'Green' }],
                product: { id: ids.product },
              },
            ],
          },
        ],
      },
      bySlug: { id: ids.product },
      byId: { slug: 'trail-tent' },
      categories: {
        totalCount: 1,
        nodes: [{ id: ids.leaf, slug: 'tents', parent: { id: ids.root }, children: [], products: { totalCount: 1 } }],
      },
      category: {
        id: ids.root,
        name: 'Outdoor',
        children: [{ id: ids.leaf }],
        products: { nodes: [{ id: ids.product }] },
      },
      node: { id: ids.variant, sku: 'TENT-2P' },
      nodes: [{ id: ids.leaf }, { id: ids.product }],
    });
  });

  it('products(filter: { categoryId }) lists only the products in or under that category', async () => {
    const res = await server.gql(
      'query ($root: ID!) { products(first: 50, filter: { categoryId: $root }) { totalCount nodes { id } } }',
      { root: ids.root },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.products).toEqual({ totalCount: 1, nodes: [{ id: ids.product }] });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('access tokens', () => {
  const now = () => Math.floor(Date.now() / 1000);
  // Every forgery below names a live staff session, so that only what it forges can be why it is refused.
  let session: { accountId: string; sessionId: string };
  beforeAll(async () => {
    session = await server.sessionFor('STAFF');
  });
  const claims = (overrides: JWTPayload = {}): JWTPayload => ({
    role: 'STAFF',
    sub: session.accountId,
    sid: session.sessionId,
    iss: 'agora',
    aud: 'agora-api',
    iat: now(),
    exp: now() + 300,
    jti: randomUUID(),
    ...overrides, // an override of undefined drops the claim
  });
  const sign = (
    payload: JWTPayload,
    { alg = 'HS256', secret = TEST_SECRET, kid = 'k1' }: { alg?: string; secret?: string; kid?: string | null } = {},
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg, typ: 'JWT', ...(kid !== null && { kid }) })
      .sign(new TextEncoder().encode(secret));
  const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  /** A request that writes when its token is believed: a staff token creates a category named `name`. */
  async function createCategoryWith(authorization: string, name: string) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({
        query:
          'mutation ($name: String!) { categoryCreate(input: { name: $name }) { category { id } userErrors { code } } }',
        variables: { name },
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  it('a well-formed token built the same way is accepted (the control for the forgeries below)', async () => {
    const name = unique('Control');
    const { status, body } = await createCategoryWith(`Bearer ${await sign(claims())}`, name);
    expect(status).toBe(200);
    expect(body.data.categoryCreate).toEqual({ category: { id: expect.any(String) }, userErrors: [] });
    expect(await server.prisma.category.count({ where: { name } })).toBe(1);
  });

  const forgeries: [string, () => Promise<string>][] = [
    ['an expired token', async () => `Bearer ${await sign(claims({ iat: now() - 310, exp: now() - 10 }))}`],
    ['an expired token from the server', async () => `Bearer ${await server.tokenFor('STAFF', { expiresIn: -10 })}`],
    ['a token that is not valid yet', async () => `Bearer ${await sign(claims({ nbf: now() + 3600 }))}`],
    [
      'a token signed with another secret',
      async () => `Bearer ${await sign(claims(), { secret: 'another-secret-that-is-long-enough-for-hs256' })}`,
    ],
    ['an alg "none" token', async () => `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`],
    ['an HS512 token with the right secret', async () => `Bearer ${await sign(claims(), { alg: 'HS512' })}`],
    ['an HS384 token with the right secret', async () => `Bearer ${await sign(claims(), { alg: 'HS384' })}`],
    ['a token for another audience', async () => `Bearer ${await sign(claims({ aud: 'billing-api' }))}`],
    ['a token from another issuer', async () => `Bearer ${await sign(claims({ iss: 'someone-else' }))}`],
    ['a token with an unknown role', async () => `Bearer ${await sign(claims({ role: 'SUPERUSER' }))}`],
    ['a token without a role', async () => `Bearer ${await sign(claims({ role: undefined }))}`],
    ['a token without sub', async () => `Bearer ${await sign(claims({ sub: undefined }))}`],
    ['a token without exp', async () => `Bearer ${await sign(claims({ exp: undefined }))}`],
    ['a token without jti', async () => `Bearer ${await sign(claims({ jti: undefined }))}`],
    ['a token under an unknown key id', async () => `Bearer ${await sign(claims(), { kid: 'k0' })}`],
    ['a token without a key id', async () => `Bearer ${await sign(claims(), { kid: null })}`],
    ['a token for a session that does not exist', async () => `Bearer ${await sign(claims({ sid: randomUUID() }))}`],
    ['a token without a session', async () => `Bearer ${await sign(claims({ sid: undefined }))}`],
    [
      "a token naming another account's session",
      async () => `Bearer ${await sign(claims({ sub: (await server.sessionFor('STAFF')).accountId }))}`,
    ],
    [
      'a customer token with the role changed to ADMIN',
      async () => {
        const [header, , signature] = (await sign(claims({ role: 'CUSTOMER' }))).split('.');
        return `Bearer ${header}.${base64url(claims({ role: 'ADMIN' }))}.${signature}`;
      },
    ],
    ['garbage after "Bearer "', async () => 'Bearer not.a.jwt'],
    ['"Bearer" without a token', async () => 'Bearer'],
    ['a Basic credential', async () => `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['a valid token under another scheme', async () => `Token ${tokens.STAFF}`],
    ['a valid token without a scheme', async () => tokens.STAFF],
    ['a valid token followed by more text', async () => `Bearer ${tokens.STAFF} extra`],
  ];

  it.each(forgeries)('%s: HTTP 401, UNAUTHENTICATED, no reason given, nothing written', async (_, authorization) => {
    const name = unique('Forged');
    const { status, body } = await createCategoryWith(await authorization(), name);
    expect(status).toBe(401);
    // the same answer whatever the reason
    expect(body).toEqual({
      errors: [{ message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(await server.prisma.category.count({ where: { name } })).toBe(0);
  });

  it('a bad token fails even a public read', async () => {
    const res = await server.gql('{ products(first: 1) { totalCount } }', undefined, 'not.a.jwt');
    expect(res.status).toBe(401);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      { message: 'The access token is invalid or has expired.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('an operation that signs in', () => {
  const password = 'Lantern-Orchard-Quartz-2864';
  let customer: { email: string; accountId: string; token: string; cartId: string; orderId: string };
  let mug: Awaited<ReturnType<typeof shop.variant>>;

  beforeAll(async () => {
    mug = await shop.variant({ price: 500, stock: 100 });
    const email = `${unique('signs-in')}@example.test`;
    const account = await server.prisma.account.create({
      data: { email, firstName: 'Sig', lastName: 'Nin', passwordHash: await hashPassword(password) },
    });
    await server.prisma.address.create({
      data: {
        accountId: account.id,
        firstName: 'Sig',
        lastName: 'Nin',
        line1: '1 Main St',
        city: 'Berlin',
        postalCode: '10115',
        countryCode: 'DE',
      },
    });
    const token = await server.tokenFor('CUSTOMER', { accountId: account.id });
    const order = await shop.placed(await shop.cart([[mug, 1]], { as: token }), { as: token });
    const cartId = (await server.gql('mutation { cartCreate(input: {}) { cart { id } } }', {}, token)).data.cartCreate
      .cart.id as string;
    customer = { email, accountId: toGlobalId('Account', account.id), token, cartId, orderId: order.id };
  });

  const LOG_IN = `logIn(input: { email: $email, password: $password }) {
    account { id email addresses { city } orders(first: 5) { nodes { id lines { quantity } payment { status } } } }
    cart { id lines { quantity } cost { total { amount } } }
    userErrors { code } }`;

  // The decision: the payload shows the account signed in to, and what it owns, because the operation proved it is
  // that account (its password). It acts as nobody new: see the next tests.
  it('reads the account it signed in to, with its addresses, orders and cart, in the payload', async () => {
    const res = await server.gql(`mutation ($email: String!, $password: String!) { ${LOG_IN} }`, {
      email: customer.email,
      password,
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.logIn).toEqual({
      account: {
        id: customer.accountId,
        email: customer.email,
        addresses: [{ city: 'Berlin' }],
        orders: { nodes: [{ id: customer.orderId, lines: [{ quantity: 1 }], payment: { status: 'AUTHORIZED' } }] },
      },
      cart: { id: customer.cartId, lines: [], cost: { total: { amount: '0.00' } } },
      userErrors: [],
    });
  });

  // Regression: logIn once made the new session the operation's viewer, so the fields after it acted as the account.
  it.each([
    [
      'cartLinesAdd on its cart',
      (cartId: string) =>
        `cartLinesAdd(input: { cartId: "${cartId}", lines: [{ variantId: $variant, quantity: 3 }] }) { userErrors { code } }`,
    ],
    ['customerUpdate', () => 'customerUpdate(input: { firstName: "Mallory" }) { userErrors { code } }'],
  ])('cannot act as the account it signed in to: %s is UNAUTHENTICATED, nothing changes', async (_, field) => {
    const before = await server.prisma.account.findUniqueOrThrow({
      where: { email: customer.email },
      include: { carts: { include: { lines: true } } },
    });
    const second = field(customer.cartId);
    const variant = second.includes('$variant');
    const res = await server.gql(
      `mutation ($email: String!, $password: String!${variant ? ', $variant: ID!' : ''}) {
        logIn(input: { email: $email, password: $password }) { userErrors { code } }
        ${second} }`,
      { email: customer.email, password, ...(variant && { variant: mug.gid }) },
    );
    expect(res.data).toBeNull();
    expect(res.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const after = await server.prisma.account.findUniqueOrThrow({
      where: { email: customer.email },
      include: { carts: { include: { lines: true } } },
    });
    expect(after).toEqual(before);
  });
});

describe('an order tracked by number and email', () => {
  it('shows the whole order to whoever gave both, and nothing to whoever did not', async () => {
    const owner = await shop.customer();
    const mug = await shop.variant({ price: 700, stock: 10 });
    const order = await shop.placed(await shop.cart([[mug, 2]], { as: owner.token }), { as: owner.token });
    const TRACK = `query ($number: Int!, $email: String!) {
      orderByNumber(number: $number, email: $email) {
        id email lines { sku quantity } shippingAddress { city } payment { status } events { kind } fulfillments { id }
      } }`;
    const tracked = await server.gql(TRACK, { number: order.number, email: order.email });
    expect(tracked.errors).toBeUndefined();
    expect(tracked.data.orderByNumber).toEqual({
      id: order.id,
      email: order.email,
      lines: [{ sku: mug.sku, quantity: 2 }],
      shippingAddress: { city: 'Berlin' },
      payment: { status: 'AUTHORIZED' },
      events: expect.any(Array),
      fulfillments: [],
    });
    // the proof opens the order for the operation that gave it, not for the next one
    const byId = await server.gql('query ($id: ID!) { order(id: $id) { id } }', { id: order.id });
    expect(byId.data).toEqual({ order: null });
    expect(byId.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);

    const wrong = await server.gql(TRACK, { number: order.number, email: 'someone@example.test' });
    expect(wrong.data.orderByNumber).toBeNull();
  });
});
