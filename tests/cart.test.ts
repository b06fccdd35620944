// Carts end to end over HTTP: guest and customer carts, lines checked against the catalog and the available stock,
// buyer identity, shipping methods, what a cart costs, who may use a cart, and the merge of a guest cart at sign-in.
// A failing mutation must answer with userErrors and a null cart, and leave every cart in the database as it was.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStoreSettings } from '../src/db/seed/store.js';
import { toGlobalId } from '../src/graphql/globalId.js';
import { commerce, type Variant } from './support/commerce.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/testServer.js';
import { BERLIN } from './support/fixtures.js';

let server: TestServer;
let staff: string;
let shop: ReturnType<typeof commerce>;
/** The demo shipping methods' global IDs, by name. */
let method: Record<'Standard' | 'Express' | 'Free local pickup', string>;

beforeAll(async () => {
  server = await startTestServer();
  shop = commerce(server);
  await seedStoreSettings(server.prisma);
  staff = await server.tokenFor('STAFF');
  const rows = await server.prisma.shippingMethod.findMany();
  method = Object.fromEntries(rows.map((row) => [row.name, toGlobalId('ShippingMethod', row.id)])) as typeof method;
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// GraphQL plumbing

const MONEY = 'amount currencyCode';
const ADDRESS = 'firstName lastName company line1 line2 city province postalCode countryCode phone';
const CART = `id totalQuantity
  lines { id quantity merchandise { id sku } cost { unitPrice { ${MONEY} } subtotal { ${MONEY} } } }
  buyerIdentity { email shippingAddress { ${ADDRESS} } }
  shippingMethod { id name price { ${MONEY} } countries }
  availableShippingMethods { name }
  cost { subtotal { ${MONEY} } shipping { ${MONEY} } tax { ${MONEY} } total { ${MONEY} } }`;

type Input = Record<string, unknown>;
type Money = { amount: string; currencyCode: string };
interface Cart {
  id: string;
  totalQuantity: number;
  lines: { id: string; quantity: number; merchandise: { id: string; sku: string }; cost: Record<string, Money> }[];
  buyerIdentity: { email: string | null; shippingAddress: Record<string, string | null> | null };
  shippingMethod: { id: string; name: string; price: Money; countries: string[] } | null;
  availableShippingMethods: { name: string }[];
  cost: Record<'subtotal' | 'shipping' | 'tax' | 'total', Money>;
}
interface ExpectedUserError {
  field: string[];
  code: string;
  message: string;
}

type CartMutation =
  | 'cartCreate'
  | 'cartLinesAdd'
  | 'cartLinesUpdate'
  | 'cartLinesRemove'
  | 'cartBuyerIdentityUpdate'
  | 'cartShippingMethodSelect';

function mutate(name: CartMutation, input: Input, token?: string): Promise<GraphQLResponse> {
  const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
  return server.gql(
    `mutation ($input: ${inputType}!) { ${name}(input: $input) { cart { ${CART} } userErrors { field message code } } }`,
    { input },
    token,
  );
}

/** The cart of a mutation that must have succeeded. */
async function succeeds(name: CartMutation, input: Input, token?: string): Promise<Cart> {
  const res = await mutate(name, input, token);
  expect(res.errors).toBeUndefined();
  expect(res.data[name].userErrors).toEqual([]);
  return res.data[name].cart;
}

/** Every cart and its lines as stored, to show that a refused mutation changed nothing (not even updatedAt). */
const storedCarts = () =>
  server.prisma.cart.findMany({
    orderBy: { id: 'asc' },
    include: { lines: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
  });

/** Runs a mutation that must fail with exactly these user errors and change nothing. */
async function rejects(name: CartMutation, input: Input, expected: ExpectedUserError[], token?: string) {
  const before = await storedCarts();
  const res = await mutate(name, input, token);
  // soft, so that a wrong answer and a changed database are both reported
  expect
    .soft({ errors: res.errors, data: res.data })
    .toEqual({ data: { [name]: { cart: null, userErrors: expected } } });
  expect(await storedCarts()).toEqual(before);
}

/** Runs a mutation that authorization must refuse with `code`, changing nothing. */
async function refused(name: CartMutation, input: Input, token: string | undefined, code: string) {
  const before = await storedCarts();
  const res = await mutate(name, input, token);
  expect.soft({ data: res.data, codes: res.errors?.map((e) => e.extensions?.code) }).toEqual({
    data: null,
    codes: [code],
  });
  expect(await storedCarts()).toEqual(before);
}

const CART_QUERY = `query ($id: ID!) { cart(id: $id) { ${CART} } }`;
const NODE_QUERY = 'query ($id: ID!) { node(id: $id) { __typename id ... on Cart { totalQuantity } } }';
const VIEWER_CART = 'query { viewer { cart { id } } }';

/** A cart that `token`'s holder must be allowed to read (null when there is none). */
async function readCart(id: string, token?: string): Promise<Cart | null> {
  const res = await server.gql(CART_QUERY, { id }, token);
  expect(res.errors).toBeUndefined();
  return res.data.cart;
}

/** A read whose errors matter: its data and the `extensions.code` of each error. */
async function attemptRead(query: string, id: string, token?: string) {
  const res = await server.gql(query, { id }, token);
  return { data: res.data, codes: res.errors?.map((e) => e.extensions?.code) };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: variants with known prices and stock come from shop.variant

const line = (variant: Variant, quantity: number) => ({ variantId: variant.gid, quantity });

/** A new cart with these lines, as a guest or as `token`'s holder. */
const newCart = (lines: [Variant, number][], token?: string) =>
  succeeds('cartCreate', { lines: lines.map(([variant, quantity]) => line(variant, quantity)) }, token);

/** The lines of a cart as [sku, quantity], in the order the API gives them. */
const linesOf = (cart: Cart) => cart.lines.map((l) => [l.merchandise.sku, l.quantity]);

const dbIdOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1]!;

const usd = (amount: string): Money => ({ amount, currencyCode: 'USD' });
const cost = (subtotal: string, shipping: string, tax: string, total: string) => ({
  subtotal: usd(subtotal),
  shipping: usd(shipping),
  tax: usd(tax),
  total: usd(total),
});

const ALL_METHODS = [{ name: 'Express' }, { name: 'Free local pickup' }, { name: 'Standard' }];
const EU_NA_GB = ['US', 'CA', 'AT', 'BE', 'DE', 'DK', 'ES', 'FI', 'FR', 'IE', 'IT', 'NL', 'PL', 'PT', 'SE', 'GB'];

const berlin = (overrides: Input = {}) => ({ ...BERLIN, ...overrides });
const storedBerlin = {
  firstName: 'Erika',
  lastName: 'Mustermann',
  company: null,
  line1: 'Unter den Linden 1',
  line2: null,
  city: 'Berlin',
  province: null,
  postalCode: '10117',
  countryCode: 'DE',
  phone: null,
};
const chicago = { ...berlin(), line1: '233 S Wacker Dr', city: 'Chicago', province: 'IL', postalCode: '60606' };
const addressIn = (countryCode: string) => ({ ...chicago, countryCode });

// Customers who can sign in, through the API

const PASSWORD = 'correct horse battery staple';

async function signUp(): Promise<{ email: string; token: string; accountId: string }> {
  const email = `shopper-${randomUUID()}@example.test`;
  const res = await server.gql(
    `mutation ($input: CustomerSignUpInput!) {
      customerSignUp(input: $input) { account { id } tokens { accessToken } userErrors { field message code } } }`,
    { input: { email, password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace' } },
  );
  expect(res.data.customerSignUp.userErrors).toEqual([]);
  const { account, tokens } = res.data.customerSignUp;
  return { email, token: tokens.accessToken, accountId: account.id };
}

const LOG_IN = `mutation ($input: LogInInput!) {
  logIn(input: $input) { account { email } cart { ${CART} } tokens { accessToken } userErrors { field message code } } }`;

/** Signs in, which must succeed: the payload's cart and the new session's token. */
async function logIn(email: string, guestCartId?: string): Promise<{ cart: Cart | null; token: string }> {
  const res = await server.gql(LOG_IN, { input: { email, password: PASSWORD, guestCartId } });
  expect(res.errors).toBeUndefined();
  expect(res.data.logIn).toMatchObject({ account: { email }, userErrors: [] });
  return { cart: res.data.logIn.cart, token: res.data.logIn.tokens.accessToken };
}

const viewerCartId = async (token: string) => {
  const res = await server.gql(VIEWER_CART, {}, token);
  expect(res.errors).toBeUndefined();
  return res.data.viewer.cart?.id ?? null;
};

// ---------------------------------------------------------------------------------------------------------------

describe('cartCreate', () => {
  it('creates an empty guest cart', async () => {
    const cart = await succeeds('cartCreate', {});
    expect(cart).toEqual({
      id: expect.any(String),
      totalQuantity: 0,
      lines: [],
      buyerIdentity: { email: null, shippingAddress: null },
      shippingMethod: null,
      availableShippingMethods: ALL_METHODS,
      cost: cost('0.00', '0.00', '0.00', '0.00'),
    });
    const stored = await server.prisma.cart.findUniqueOrThrow({ where: { id: dbIdOf(cart.id) } });
    expect(stored).toMatchObject({ accountId: null, email: null, shippingAddress: null, shippingMethodId: null });
  });

  it('starts with lines in the order given, priced from the catalog, and the email in lower case', async () => {
    const mug = await shop.variant({ price: 1999 });
    const pen = await shop.variant({ price: 250 });
    const cart = await succeeds('cartCreate', {
      lines: [line(pen, 3), line(mug, 2)],
      email: '  Buyer@Example.TEST ',
    });
    expect(cart).toEqual({
      id: expect.any(String),
      totalQuantity: 5,
      lines: [
        {
          id: expect.any(String),
          quantity: 3,
          merchandise: { id: pen.gid, sku: pen.sku },
          cost: { unitPrice: usd('2.50'), subtotal: usd('7.50') },
        },
        {
          id: expect.any(String),
          quantity: 2,
          merchandise: { id: mug.gid, sku: mug.sku },
          cost: { unitPrice: usd('19.99'), subtotal: usd('39.98') },
        },
      ],
      buyerIdentity: { email: 'buyer@example.test', shippingAddress: null },
      shippingMethod: null,
      availableShippingMethods: ALL_METHODS,
      cost: cost('47.48', '0.00', '0.00', '47.48'),
    });
  });

  it('refuses an invalid email, creating no cart', async () => {
    await rejects('cartCreate', { email: 'not-an-email' }, [
      { field: ['input', 'email'], code: 'INVALID', message: 'Enter a valid email address.' },
    ]);
  });

  it('creates no cart when one of its lines is refused', async () => {
    const mug = await shop.variant({ price: 1000, stock: 2 });
    await rejects('cartCreate', { lines: [line(mug, 1), line(mug, 2)] }, [
      { field: ['input', 'lines', '1', 'quantity'], code: 'INSUFFICIENT_STOCK', message: 'Only 2 available.' },
    ]);
  });
});

describe('reading a cart', () => {
  it('lets anyone holding a guest cart’s ID read it through cart(id:) and node(id:)', async () => {
    const mug = await shop.variant({ price: 1000 });
    const cart = await newCart([[mug, 2]]);
    const customer = await server.tokenFor('CUSTOMER');
    for (const token of [undefined, customer, staff]) {
      expect(await readCart(cart.id, token)).toEqual(cart);
      expect(await attemptRead(NODE_QUERY, cart.id, token)).toEqual({
        data: { node: { __typename: 'Cart', id: cart.id, totalQuantity: 2 } },
        codes: undefined,
      });
    }
  });

  it('answers null for a cart that does not exist, and rejects a malformed ID', async () => {
    expect(await readCart(toGlobalId('Cart', randomUUID()))).toBeNull();
    expect(await attemptRead(CART_QUERY, toGlobalId('Product', randomUUID()))).toEqual({
      data: { cart: null },
      codes: ['BAD_USER_INPUT'],
    });
  });

  it('lists the shipping methods by name', async () => {
    const res = await server.gql(`query { shippingMethods { name price { ${MONEY} } countries } }`);
    expect(res.data.shippingMethods).toEqual([
      { name: 'Express', price: usd('14.99'), countries: EU_NA_GB },
      { name: 'Free local pickup', price: usd('0.00'), countries: ['US'] },
      { name: 'Standard', price: usd('4.99'), countries: EU_NA_GB },
    ]);
  });
});

describe('cartLinesAdd', () => {
  it('adds new variants after the existing lines and raises the quantity of a variant already in the cart', async () => {
    const [mug, pen, cap] = await Promise.all([
      shop.variant({ price: 1000 }),
      shop.variant({ price: 200 }),
      shop.variant({ price: 1500 }),
    ]);
    const created = await newCart([
      [mug, 1],
      [pen, 2],
    ]);
    const cart = await succeeds('cartLinesAdd', { cartId: created.id, lines: [line(cap, 1), line(mug, 3)] });
    expect(linesOf(cart)).toEqual([
      [mug.sku, 4],
      [pen.sku, 2],
      [cap.sku, 1],
    ]);
    expect(cart.lines.slice(0, 2).map((l) => l.id)).toEqual(created.lines.map((l) => l.id));
    expect(cart.totalQuantity).toBe(7);
    expect(cart.cost).toEqual(cost('59.00', '0.00', '0.00', '59.00'));
    expect(await readCart(cart.id)).toEqual(cart);
  });

  it('sums the same variant named twice in one call', async () => {
    const mug = await shop.variant({ price: 1000 });
    const { id } = await succeeds('cartCreate', {});
    const cart = await succeeds('cartLinesAdd', { cartId: id, lines: [line(mug, 20), line(mug, 30)] });
    expect(linesOf(cart)).toEqual([[mug.sku, 50]]);
  });

  it('accepts exactly 50 units of a line and exactly the available stock', async () => {
    const plenty = await shop.variant({ price: 100, stock: 60 });
    const scarce = await shop.variant({ price: 100, stock: 10, reserved: 3 });
    const created = await newCart([
      [plenty, 45],
      [scarce, 4],
    ]);
    const cart = await succeeds('cartLinesAdd', { cartId: created.id, lines: [line(plenty, 5), line(scarce, 3)] });
    expect(linesOf(cart)).toEqual([
      [plenty.sku, 50],
      [scarce.sku, 7],
    ]);
  });

  describe('refuses, changing nothing', () => {
    // A cart with 30 of `plenty` (100 in stock) and 5 of `scarce` (10 on hand, 3 reserved: 7 available); `spare` has
    // 100 in stock and is not in the cart.
    let cartId: string;
    let plenty: Variant;
    let spare: Variant;
    let scarce: Variant;
    let gone: Variant;
    let empty: Variant;
    beforeAll(async () => {
      [plenty, spare, scarce, gone, empty] = await Promise.all([
        shop.variant({ price: 100, stock: 100 }),
        shop.variant({ price: 100, stock: 100 }),
        shop.variant({ price: 100, stock: 10, reserved: 3 }),
        shop.variant({ price: 100, stock: 4, reserved: 4 }),
        shop.variant({ price: 100, stock: 0 }),
      ]);
      cartId = (
        await newCart([
          [plenty, 30],
          [scarce, 5],
        ])
      ).id;
    });

    const notFound = (i: number) => ({
      field: ['input', 'lines', String(i), 'variantId'],
      code: 'NOT_FOUND',
      message: 'No variant with this ID.',
    });
    const invalid = (i: number) => ({
      field: ['input', 'lines', String(i), 'quantity'],
      code: 'INVALID',
      message: 'Quantity must be between 1 and 50.',
    });
    const stock = (i: number, message: string) => ({
      field: ['input', 'lines', String(i), 'quantity'],
      code: 'INSUFFICIENT_STOCK',
      message,
    });

    const cases: [string, () => Input[], ExpectedUserError[]][] = [
      [
        'an unknown variant',
        () => [{ variantId: toGlobalId('ProductVariant', randomUUID()), quantity: 1 }],
        [notFound(0)],
      ],
      ['a malformed variant ID', () => [{ variantId: 'not-an-id', quantity: 1 }], [notFound(0)]],
      ['the ID of another type', () => [{ variantId: cartId, quantity: 1 }], [notFound(0)]],
      ['quantity 0', () => [line(plenty, 0)], [invalid(0)]],
      ['a negative quantity', () => [line(plenty, -2)], [invalid(0)]],
      ['quantity 51', () => [line(spare, 51)], [invalid(0)]],
      ['more than 50 in total with the line in the cart', () => [line(plenty, 21)], [invalid(0)]],
      ['more than 50 in total within the call', () => [line(spare, 25), line(spare, 26)], [invalid(1)]],
      ['more than the available stock', () => [line(scarce, 3)], [stock(0, 'Only 7 available.')]],
      ['a variant with all its stock reserved', () => [line(gone, 1)], [stock(0, 'Out of stock.')]],
      ['a variant with no stock', () => [line(empty, 1)], [stock(0, 'Out of stock.')]],
      [
        'a batch with one bad line among good ones',
        () => [line(plenty, 1), line(scarce, 1), line(scarce, 2)],
        [stock(2, 'Only 7 available.')],
      ],
      [
        'a batch with several bad lines',
        () => [{ variantId: 'nope', quantity: 1 }, line(plenty, 1), line(plenty, 0)],
        [notFound(0), invalid(2)],
      ],
    ];
    it.each(cases)('%s', async (_, lines, expected) => {
      await rejects('cartLinesAdd', { cartId, lines: lines() }, expected);
    });
  });
});

describe('cartLinesUpdate', () => {
  it('sets new quantities and removes the lines set to 0, keeping the order', async () => {
    const [mug, pen, cap] = await Promise.all([
      shop.variant({ price: 1000 }),
      shop.variant({ price: 200 }),
      shop.variant({ price: 1500 }),
    ]);
    const created = await newCart([
      [mug, 1],
      [pen, 2],
      [cap, 3],
    ]);
    const [mugLine, penLine, capLine] = created.lines.map((l) => l.id);
    const cart = await succeeds('cartLinesUpdate', {
      cartId: created.id,
      lines: [
        { id: capLine, quantity: 5 },
        { id: mugLine, quantity: 0 },
      ],
    });
    expect(cart.lines.map((l) => [l.id, l.merchandise.sku, l.quantity])).toEqual([
      [penLine, pen.sku, 2],
      [capLine, cap.sku, 5],
    ]);
    expect(cart.totalQuantity).toBe(7);
    expect(cart.cost).toEqual(cost('79.00', '0.00', '0.00', '79.00'));
  });

  describe('refuses, changing nothing', () => {
    // A cart with 1 of `plenty` and 5 of `scarce` (7 available).
    let cart: Cart;
    let otherCartLine: string;
    beforeAll(async () => {
      const [plenty, scarce] = await Promise.all([
        shop.variant({ price: 100, stock: 100 }),
        shop.variant({ price: 100, stock: 10, reserved: 3 }),
      ]);
      cart = await newCart([
        [plenty, 1],
        [scarce, 5],
      ]);
      otherCartLine = (await newCart([[plenty, 1]])).lines[0]!.id;
    });

    const lineNotFound = (i: number) => ({
      field: ['input', 'lines', String(i), 'id'],
      code: 'NOT_FOUND',
      message: 'No line with this ID in the cart.',
    });
    const invalid = (i: number) => ({
      field: ['input', 'lines', String(i), 'quantity'],
      code: 'INVALID',
      message: 'Quantity must be between 1 and 50.',
    });
    const cases: [string, () => Input[], ExpectedUserError[]][] = [
      ['an unknown line', () => [{ id: toGlobalId('CartLine', randomUUID()), quantity: 1 }], [lineNotFound(0)]],
      ['a malformed line ID', () => [{ id: 'nope', quantity: 1 }], [lineNotFound(0)]],
      ['a line of another cart', () => [{ id: otherCartLine, quantity: 2 }], [lineNotFound(0)]],
      ['a negative quantity', () => [{ id: cart.lines[0]!.id, quantity: -1 }], [invalid(0)]],
      ['quantity 51', () => [{ id: cart.lines[0]!.id, quantity: 51 }], [invalid(0)]],
      [
        'more than the available stock, after a good change',
        () => [
          { id: cart.lines[0]!.id, quantity: 0 },
          { id: cart.lines[1]!.id, quantity: 8 },
        ],
        [
          {
            field: ['input', 'lines', '1', 'quantity'],
            code: 'INSUFFICIENT_STOCK',
            message: 'Only 7 available.',
          },
        ],
      ],
    ];
    it.each(cases)('%s', async (_, lines, expected) => {
      await rejects('cartLinesUpdate', { cartId: cart.id, lines: lines() }, expected);
    });
  });
});

describe('cartLinesRemove', () => {
  it('removes the lines given, keeping the order of the rest, and leaves other carts alone', async () => {
    const [mug, pen, cap] = await Promise.all([
      shop.variant({ price: 1000 }),
      shop.variant({ price: 200 }),
      shop.variant({ price: 1500 }),
    ]);
    const created = await newCart([
      [mug, 1],
      [pen, 2],
      [cap, 3],
    ]);
    const other = await newCart([[mug, 4]]);
    const cart = await succeeds('cartLinesRemove', {
      cartId: created.id,
      lineIds: [created.lines[1]!.id, other.lines[0]!.id],
    });
    expect(linesOf(cart)).toEqual([
      [mug.sku, 1],
      [cap.sku, 3],
    ]);
    expect(cart.totalQuantity).toBe(4);
    expect(cart.cost).toEqual(cost('55.00', '0.00', '0.00', '55.00'));
    expect(await readCart(other.id)).toEqual(other);

    const emptied = await succeeds('cartLinesRemove', { cartId: cart.id, lineIds: cart.lines.map((l) => l.id) });
    expect(emptied).toMatchObject({ lines: [], totalQuantity: 0, cost: cost('0.00', '0.00', '0.00', '0.00') });
  });
});

describe('a cart ID that names no cart', () => {
  const unknown = toGlobalId('Cart', randomUUID());
  const cases: [CartMutation, () => Input][] = [
    ['cartLinesAdd', () => ({ lines: [] })],
    ['cartLinesUpdate', () => ({ lines: [] })],
    ['cartLinesRemove', () => ({ lineIds: [toGlobalId('CartLine', randomUUID())] })],
    ['cartBuyerIdentityUpdate', () => ({ email: 'someone@example.test' })],
    ['cartShippingMethodSelect', () => ({ shippingMethodId: method.Standard })],
  ];
  it.each(cases)('%s answers NOT_FOUND on input.cartId', async (name, input) => {
    await rejects(name, { cartId: unknown, ...input() }, [
      { field: ['input', 'cartId'], code: 'NOT_FOUND', message: 'No cart with this ID.' },
    ]);
  });
});

describe('cartBuyerIdentityUpdate', () => {
  it('sets the email and a normalised shipping address; fields left out keep their values', async () => {
    const { id } = await succeeds('cartCreate', {});
    const cart = await succeeds('cartBuyerIdentityUpdate', {
      cartId: id,
      email: 'Erika@Example.TEST',
      shippingAddress: berlin({ countryCode: ' de ', postalCode: ' 10117 ', company: '', line2: '  ', phone: null }),
    });
    expect(cart.buyerIdentity).toEqual({ email: 'erika@example.test', shippingAddress: storedBerlin });

    const emailOnly = await succeeds('cartBuyerIdentityUpdate', { cartId: id, email: 'other@example.test' });
    expect(emailOnly.buyerIdentity).toEqual({ email: 'other@example.test', shippingAddress: storedBerlin });

    const addressOnly = await succeeds('cartBuyerIdentityUpdate', {
      cartId: id,
      shippingAddress: { ...chicago, countryCode: 'us', company: 'Acme', line2: 'Suite 5', phone: '+13125550100' },
    });
    expect(addressOnly.buyerIdentity).toEqual({
      email: 'other@example.test',
      shippingAddress: {
        ...storedBerlin,
        line1: '233 S Wacker Dr',
        city: 'Chicago',
        province: 'IL',
        postalCode: '60606',
        countryCode: 'US',
        company: 'Acme',
        line2: 'Suite 5',
        phone: '+13125550100',
      },
    });
  });

  describe('refuses invalid values, changing nothing', () => {
    let cartId: string;
    beforeAll(async () => {
      cartId = (await succeeds('cartCreate', {})).id;
      await succeeds('cartBuyerIdentityUpdate', { cartId, email: 'kept@example.test', shippingAddress: berlin() });
    });

    const at = (field: string[], code: string, message: string) => ({ field: ['input', ...field], code, message });
    const country = at(['shippingAddress', 'countryCode'], 'INVALID', 'Enter an ISO 3166-1 alpha-2 country code.');
    const cases: [string, Input, ExpectedUserError[]][] = [
      ['an invalid email', { email: 'nope' }, [at(['email'], 'INVALID', 'Enter a valid email address.')]],
      ['an unassigned country code', { shippingAddress: berlin({ countryCode: 'XX' }) }, [country]],
      ['a three-letter country code', { shippingAddress: berlin({ countryCode: 'DEU' }) }, [country]],
      [
        'a blank first name',
        { shippingAddress: berlin({ firstName: '  ' }) },
        [at(['shippingAddress', 'firstName'], 'BLANK', 'First name cannot be blank.')],
      ],
      [
        'an invalid postal code',
        { shippingAddress: berlin({ postalCode: '#1' }) },
        [at(['shippingAddress', 'postalCode'], 'INVALID', 'Enter a valid postal code.')],
      ],
      [
        'a phone number not in international format',
        { shippingAddress: berlin({ phone: '030 123456' }) },
        [
          at(
            ['shippingAddress', 'phone'],
            'INVALID',
            'Enter the phone number in international format, such as +4930123456.',
          ),
        ],
      ],
      [
        'a good email with a bad address',
        { email: 'new@example.test', shippingAddress: berlin({ city: '', countryCode: 'de' }) },
        [at(['shippingAddress', 'city'], 'BLANK', 'City cannot be blank.')],
      ],
    ];
    it.each(cases)('%s', async (_, input, expected) => {
      await rejects('cartBuyerIdentityUpdate', { cartId, ...input }, expected);
    });
  });
});

describe('shipping methods', () => {
  it.each([
    ['US', ALL_METHODS],
    ['DE', [{ name: 'Express' }, { name: 'Standard' }]],
    ['JP', []],
  ])('offers a cart shipping to %s only the methods that serve it', async (countryCode, expected) => {
    const { id } = await succeeds('cartCreate', {});
    const cart = await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: addressIn(countryCode) });
    expect(cart.availableShippingMethods).toEqual(expected);
  });

  it('chooses a method that serves the address, and refuses one that does not or does not exist', async () => {
    const { id } = await succeeds('cartCreate', {});
    await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: berlin() });
    const cart = await succeeds('cartShippingMethodSelect', { cartId: id, shippingMethodId: method.Express });
    expect(cart.shippingMethod).toEqual({
      id: method.Express,
      name: 'Express',
      price: usd('14.99'),
      countries: EU_NA_GB,
    });

    const inactive = await server.prisma.shippingMethod.create({
      data: { name: 'Retired courier', priceAmount: 999, countries: ['DE'], active: false },
    });
    const notFound = [
      { field: ['input', 'shippingMethodId'], code: 'NOT_FOUND', message: 'No shipping method with this ID.' },
    ];
    for (const shippingMethodId of [
      toGlobalId('ShippingMethod', randomUUID()),
      toGlobalId('ShippingMethod', inactive.id),
      'not-an-id',
    ]) {
      await rejects('cartShippingMethodSelect', { cartId: id, shippingMethodId }, notFound);
    }
    await rejects('cartShippingMethodSelect', { cartId: id, shippingMethodId: method['Free local pickup'] }, [
      { field: ['input', 'shippingMethodId'], code: 'INVALID', message: 'Free local pickup does not ship to DE.' },
    ]);
  });

  it('keeps the chosen method when the new address is served, and drops it when not', async () => {
    const { id } = await succeeds('cartCreate', {});
    await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: addressIn('US') });
    await succeeds('cartShippingMethodSelect', { cartId: id, shippingMethodId: method['Free local pickup'] });
    await succeeds('cartShippingMethodSelect', { cartId: id, shippingMethodId: method.Standard });
    const toCanada = await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: addressIn('ca') });
    expect(toCanada.shippingMethod?.name).toBe('Standard');

    await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: addressIn('US') });
    await succeeds('cartShippingMethodSelect', { cartId: id, shippingMethodId: method['Free local pickup'] });
    const toGermany = await succeeds('cartBuyerIdentityUpdate', {
      cartId: id,
      shippingAddress: berlin({ countryCode: 'de' }),
    });
    expect(toGermany).toMatchObject({ shippingMethod: null, cost: cost('0.00', '0.00', '0.00', '0.00') });
    expect(await server.prisma.cart.findUniqueOrThrow({ where: { id: dbIdOf(id) } })).toMatchObject({
      shippingMethodId: null,
    });
  });
});

describe('cost', () => {
  // 2 × 20.00 + 1 × 12.51 = 52.51
  let mug: Variant;
  let print: Variant;
  beforeAll(async () => {
    [mug, print] = await Promise.all([shop.variant({ price: 2000 }), shop.variant({ price: 1251 })]);
  });
  const twoLines = () =>
    newCart([
      [mug, 2],
      [print, 1],
    ]);

  it('is the subtotal alone until an address and a method are chosen', async () => {
    const cart = await twoLines();
    expect(cart.cost).toEqual(cost('52.51', '0.00', '0.00', '52.51'));
    // a method without an address: shipping, but no tax yet
    const shipped = await succeeds('cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: method.Express });
    expect(shipped.cost).toEqual(cost('52.51', '14.99', '0.00', '67.50'));
  });

  it.each([
    // (5251 + 1499) × 19 % = 1282.5, rounded half up
    ['DE', 'Express', cost('52.51', '14.99', '12.83', '80.33')],
    // (5251 + 499) × 19 % = 1092.5
    ['DE', 'Standard', cost('52.51', '4.99', '10.93', '68.43')],
    // (5251 + 1499) × 5 % = 337.5
    ['CA', 'Express', cost('52.51', '14.99', '3.38', '70.88')],
    ['US', 'Express', cost('52.51', '14.99', '0.00', '67.50')],
    ['US', 'Free local pickup', cost('52.51', '0.00', '0.00', '52.51')],
  ] as const)('shipping to %s by %s', async (countryCode, methodName, expected) => {
    const { id } = await twoLines();
    await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: addressIn(countryCode) });
    const cart = await succeeds('cartShippingMethodSelect', { cartId: id, shippingMethodId: method[methodName] });
    expect(cart.cost).toEqual(expected);
    expect((await readCart(id))!.cost).toEqual(expected);
  });

  it('taxes the goods once an address is set, before a method is chosen', async () => {
    const { id } = await twoLines();
    const cart = await succeeds('cartBuyerIdentityUpdate', { cartId: id, shippingAddress: berlin() });
    // 5251 × 19 % = 997.69
    expect(cart.cost).toEqual(cost('52.51', '0.00', '9.98', '62.49'));
  });

  it('follows the catalog’s prices: a client never sends one', async () => {
    const tee = await shop.variant({ price: 1000 });
    const cart = await newCart([[tee, 3]]);
    await succeeds('cartBuyerIdentityUpdate', { cartId: cart.id, shippingAddress: berlin() });
    await succeeds('cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: method.Standard });

    const res = await server.gql(
      `mutation ($input: ProductVariantUpdateInput!) {
        productVariantUpdate(input: $input) { productVariant { id } userErrors { field message code } } }`,
      { input: { id: tee.gid, price: '12.50' } },
      staff,
    );
    expect(res.data.productVariantUpdate).toEqual({ productVariant: { id: tee.gid }, userErrors: [] });
    const repriced = await readCart(cart.id);
    expect(repriced!.lines[0]!.cost).toEqual({ unitPrice: usd('12.50'), subtotal: usd('37.50') });
    // (3750 + 499) × 19 % = 807.31
    expect(repriced!.cost).toEqual(cost('37.50', '4.99', '8.07', '50.56'));

    const before = await storedCarts();
    const withPrice = await mutate('cartLinesAdd', {
      cartId: cart.id,
      lines: [{ ...line(tee, 1), price: { amount: '0.01', currencyCode: 'USD' } }],
    });
    expect({ data: withPrice.data, codes: withPrice.errors?.map((e) => e.extensions?.code) }).toEqual({
      codes: ['BAD_USER_INPUT'],
    });
    expect(await storedCarts()).toEqual(before);
  });
});

describe('a customer’s cart', () => {
  let owner: string;
  let ownerEmail: string;
  let other: string;
  let cart: Cart;
  let pen: Variant;
  beforeAll(async () => {
    pen = await shop.variant({ price: 300 });
    owner = await server.tokenFor('CUSTOMER');
    other = await server.tokenFor('CUSTOMER');
    cart = await newCart([[pen, 1]], owner);
    const stored = await server.prisma.cart.findUniqueOrThrow({
      where: { id: dbIdOf(cart.id) },
      include: { account: true },
    });
    ownerEmail = stored.account!.email;
  });

  it('belongs to the customer who created it, with their email for the receipt', async () => {
    const stored = await server.prisma.cart.findUniqueOrThrow({
      where: { id: dbIdOf(cart.id) },
      include: { account: true },
    });
    expect(stored).toMatchObject({ email: null, account: { role: 'CUSTOMER' } });
    expect(cart.buyerIdentity).toEqual({ email: ownerEmail, shippingAddress: null });
  });

  it('is readable by the customer and by staff', async () => {
    for (const token of [owner, staff]) {
      expect(await readCart(cart.id, token)).toMatchObject({ id: cart.id, totalQuantity: 1 });
      expect(await attemptRead(NODE_QUERY, cart.id, token)).toEqual({
        data: { node: { __typename: 'Cart', id: cart.id, totalQuantity: 1 } },
        codes: undefined,
      });
    }
  });

  it.each([
    ['another customer', () => other, 'FORBIDDEN'],
    ['an anonymous holder of its ID', () => undefined, 'UNAUTHENTICATED'],
  ])('is refused to %s: cart(id:), node(id:) and every cart mutation', async (_, token, code) => {
    expect(await attemptRead(CART_QUERY, cart.id, token())).toEqual({ data: { cart: null }, codes: [code] });
    expect(await attemptRead(NODE_QUERY, cart.id, token())).toEqual({ data: { node: null }, codes: [code] });
    const lineId = cart.lines[0]!.id;
    const attempts: [CartMutation, Input][] = [
      ['cartLinesAdd', { cartId: cart.id, lines: [line(pen, 1)] }],
      ['cartLinesUpdate', { cartId: cart.id, lines: [{ id: lineId, quantity: 3 }] }],
      ['cartLinesRemove', { cartId: cart.id, lineIds: [lineId] }],
      ['cartBuyerIdentityUpdate', { cartId: cart.id, email: 'thief@example.test', shippingAddress: berlin() }],
      ['cartShippingMethodSelect', { cartId: cart.id, shippingMethodId: method.Express }],
    ];
    for (const [name, input] of attempts) await refused(name, input, token(), code);
  });

  it('can be changed by the customer and by staff', async () => {
    const mine = await newCart([[pen, 1]], owner);
    const byOwner = await succeeds('cartLinesAdd', { cartId: mine.id, lines: [line(pen, 1)] }, owner);
    expect(linesOf(byOwner)).toEqual([[pen.sku, 2]]);
    const byStaff = await succeeds(
      'cartLinesUpdate',
      { cartId: mine.id, lines: [{ id: mine.lines[0]!.id, quantity: 5 }] },
      staff,
    );
    expect(linesOf(byStaff)).toEqual([[pen.sku, 5]]);
  });

  it('is the viewer’s cart while it is the one changed most recently', async () => {
    const customer = await server.tokenFor('CUSTOMER');
    expect(await viewerCartId(customer)).toBeNull();
    const first = await succeeds('cartCreate', {}, customer);
    const second = await succeeds('cartCreate', {}, customer);
    expect(await viewerCartId(customer)).toBe(second.id);
    await succeeds('cartLinesAdd', { cartId: first.id, lines: [line(pen, 1)] }, customer);
    expect(await viewerCartId(customer)).toBe(first.id);
    await succeeds('cartBuyerIdentityUpdate', { cartId: second.id, email: 'me@example.test' }, customer);
    expect(await viewerCartId(customer)).toBe(second.id);
  });
});

describe('merging a guest cart at sign-in', () => {
  let mug: Variant;
  let pen: Variant;
  let cap: Variant;
  beforeAll(async () => {
    [mug, pen, cap] = await Promise.all([
      shop.variant({ price: 1000 }),
      shop.variant({ price: 200 }),
      shop.variant({ price: 1500 }),
    ]);
  });

  it('adds the guest’s lines to the customer’s cart, summing quantities up to 50, and deletes the guest cart', async () => {
    const customer = await signUp();
    const own = await newCart(
      [
        [mug, 2],
        [pen, 45],
      ],
      customer.token,
    );
    const guest = await newCart([
      [pen, 10],
      [cap, 1],
    ]);

    const { cart, token } = await logIn(customer.email, guest.id);
    expect(cart).toMatchObject({ id: own.id, totalQuantity: 53, buyerIdentity: { email: customer.email } });
    expect(linesOf(cart!)).toEqual([
      [mug.sku, 2],
      [pen.sku, 50],
      [cap.sku, 1],
    ]);
    expect(cart!.cost).toEqual(cost('135.00', '0.00', '0.00', '135.00'));
    expect(await readCart(own.id, token)).toEqual(cart);
    expect(await viewerCartId(token)).toBe(own.id);
    expect(await readCart(guest.id)).toBeNull();
    expect(await server.prisma.cart.count({ where: { id: dbIdOf(guest.id) } })).toBe(0);
  });

  it('appends the guest’s new lines in the order they were added to the guest cart', async () => {
    const customer = await signUp();
    const extra = await Promise.all([1, 2, 3, 4, 5].map(() => shop.variant({ price: 100 })));
    await newCart([[mug, 1]], customer.token);
    const guest = await newCart(extra.slice(0, 3).map((variant) => [variant, 1]));
    await succeeds('cartLinesAdd', { cartId: guest.id, lines: extra.slice(3).map((variant) => line(variant, 1)) });
    const { cart } = await logIn(customer.email, guest.id);
    expect(linesOf(cart!)).toEqual([[mug.sku, 1], ...extra.map((variant) => [variant.sku, 1])]);
  });

  it('makes the guest cart the customer’s when they have none, closing it to anonymous holders of its ID', async () => {
    const customer = await signUp();
    const guest = await succeeds('cartCreate', { lines: [line(mug, 1)], email: 'guest@example.test' });

    const { cart, token } = await logIn(customer.email, guest.id);
    expect(cart).toEqual({ ...guest, buyerIdentity: { email: 'guest@example.test', shippingAddress: null } });
    const stored = await server.prisma.cart.findUniqueOrThrow({ where: { id: dbIdOf(guest.id) } });
    expect(stored.accountId).toBe(dbIdOf(customer.accountId));
    expect(await viewerCartId(token)).toBe(guest.id);
    expect(await readCart(guest.id, token)).toEqual(cart);
    expect(await attemptRead(CART_QUERY, guest.id)).toEqual({ data: { cart: null }, codes: ['UNAUTHENTICATED'] });
    await refused('cartLinesAdd', { cartId: guest.id, lines: [line(mug, 1)] }, undefined, 'UNAUTHENTICATED');
  });

  it('ignores the ID of another customer’s cart', async () => {
    const [victim, customer] = await Promise.all([signUp(), signUp()]);
    const victims = await newCart([[mug, 1]], victim.token);
    const before = await storedCarts();

    // with no cart of their own, the payload has none
    expect((await logIn(customer.email, victims.id)).cart).toBeNull();
    expect(await storedCarts()).toEqual(before);

    const own = await newCart([[pen, 2]], customer.token);
    const { cart } = await logIn(customer.email, victims.id);
    expect(cart).toEqual(own);
    expect(await readCart(victims.id, victim.token)).toEqual(victims);
  });

  it('answers the customer’s open cart when no guest cart is given, or one that does not exist', async () => {
    const customer = await signUp();
    expect((await logIn(customer.email)).cart).toBeNull();
    const own = await newCart([[pen, 1]], customer.token);
    expect((await logIn(customer.email)).cart).toEqual(own);
    expect((await logIn(customer.email, toGlobalId('Cart', randomUUID()))).cart).toEqual(own);
    expect((await logIn(customer.email, 'not-an-id')).cart).toEqual(own);
  });

  it('merges nothing when signing in fails', async () => {
    const customer = await signUp();
    const guest = await newCart([[mug, 1]]);
    const before = await storedCarts();
    const res = await server.gql(LOG_IN, {
      input: { email: customer.email, password: 'wrong password entirely', guestCartId: guest.id },
    });
    expect(res.data.logIn).toMatchObject({
      account: null,
      cart: null,
      tokens: null,
      userErrors: [{ code: 'INVALID_CREDENTIALS' }],
    });
    expect(await storedCarts()).toEqual(before);
  });
});
