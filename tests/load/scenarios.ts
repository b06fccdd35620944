// What each scenario sends, the carts it needs (made through the API beforehand), and how answers are checked.
import { isDeepStrictEqual } from 'node:util';
import { BERLIN } from '../support/fixtures.js';

const MONEY = 'amount currencyCode';
const VARIANT = `id sku title availableForSale price { ${MONEY} } compareAtPrice { ${MONEY} } selectedOptions { name value }`;
const PRICE_RANGE = `priceRange { minVariantPrice { ${MONEY} } maxVariantPrice { ${MONEY} } }`;

/** A storefront's product grid. reference.ts builds the same fields, in the same shape and order, in SQL. */
export const LISTING_QUERY = `query BenchListing($first: Int!) {
  products(first: $first) {
    nodes { id title slug availableForSale ${PRICE_RANGE} variants { ${VARIANT} } categories { id name slug } }
  }
}`;

/** Issue 13's page, the comparison users make: the first 50 products with title, slug, variants with SKU, price and
 * availability, and category names. reference.ts (PAGE=storefront) builds the same in SQL. */
export const STOREFRONT_QUERY = `query StorefrontPage { products(first: 50) { nodes {
  title slug variants { sku price { ${MONEY} } availableForSale } categories { name } } } }`;
/** The rows of STOREFRONT_QUERY, as the raw reference and Agora give them. */
export const STOREFRONT_PAGE_SIZE = 50;

/** The same page from PostGraphile 5 (postgraphile.ts): its names for the same tables and columns, Agora's order
 * (products by creation then ID, variants by position then ID), and category names through product_category. */
export const POSTGRAPHILE_STOREFRONT_QUERY = `query StorefrontPage {
  allProducts(first: 50, orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) { nodes {
    title slug
    productVariantsByProductId(orderBy: [POSITION_ASC, ROW_ID_ASC]) { nodes { sku priceAmount availableForSale } }
    productCategoriesByProductId { nodes { categoryByCategoryId { name } } }
  } }
}`;

export const PRODUCT_QUERY = `query BenchProduct($slug: String!) {
  product(slug: $slug) {
    id title slug description availableForSale ${PRICE_RANGE}
    variants { ${VARIANT} }
    categories { id name slug parent { id name slug } }
  }
}`;

const CART = `cart { id totalQuantity
  lines { id quantity merchandise { id sku title } cost { unitPrice { ${MONEY} } subtotal { ${MONEY} } } }
  cost { subtotal { ${MONEY} } shipping { ${MONEY} } tax { ${MONEY} } total { ${MONEY} } } }`;
const USER_ERRORS = 'userErrors { field code message }';
const mutation = (name: string, selection: string) =>
  `mutation Bench${name[0]!.toUpperCase()}${name.slice(1)}($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) {
  ${name}(input: $input) { ${selection} ${USER_ERRORS} } }`;

export const CART_ADD_MUTATION = mutation('cartLinesAdd', CART);
export const CHECKOUT_MUTATION = mutation(
  'checkoutComplete',
  `order { id number status financialStatus total { ${MONEY} } lines { sku quantity } }`,
);

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
export const variantGid = (id: string) => Buffer.from(`ProductVariant:${id}`).toString('base64url');

export const listingBody = (first: number) => body(LISTING_QUERY, { first });
export const storefrontBody = () => body(STOREFRONT_QUERY, {});
export const postgraphileStorefrontBody = () => body(POSTGRAPHILE_STOREFRONT_QUERY, {});
export const productBodies = (slugs: string[]) => slugs.map((slug) => body(PRODUCT_QUERY, { slug }));

/** Round r adds variant (r + c) mod V to cart c: carts grow by one line per round, up to `rounds` lines. */
export function cartAddBodies(cartIds: string[], variantGids: string[], rounds: number): string[] {
  const bodies: string[] = [];
  for (let round = 0; round < rounds; round++) {
    cartIds.forEach((cartId, c) => {
      const variantId = variantGids[(round + c) % variantGids.length]!;
      bodies.push(body(CART_ADD_MUTATION, { input: { cartId, lines: [{ variantId, quantity: 1 }] } }));
    });
  }
  return bodies;
}

export const checkoutBodies = (cartIds: string[], runId: string) =>
  cartIds.map((cartId, i) =>
    body(CHECKOUT_MUTATION, {
      input: { cartId, payment: { provider: 'sandbox', token: 'tok_visa' }, idempotencyKey: `bench-${runId}-${i}` },
    }),
  );

// ---------------------------------------------------------------------------------------------------------------
// Fixtures through the API

export async function post(url: string, json: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  return { status: res.status, text: await res.text() };
}

/** Runs one operation that must succeed (no errors, no userErrors) and returns its data. */
async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const { status, text } = await post(url, body(query, variables));
  const json = JSON.parse(text);
  const payloads = Object.values<{ userErrors?: unknown[] } | null>(json.data ?? {});
  if (status !== 200 || json.errors || payloads.some((payload) => payload?.userErrors?.length)) {
    throw new Error(`setup request failed (${status}): ${text.slice(0, 500)}`);
  }
  return json.data;
}

async function inParallel<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const CART_CREATE = mutation('cartCreate', 'cart { id }');
const BUYER_UPDATE = mutation('cartBuyerIdentityUpdate', 'cart { id }');
const SHIPPING_SELECT = mutation('cartShippingMethodSelect', 'cart { id }');

/** `count` guest carts, cart i starting with the lines `linesOf(i)`; returns their global IDs. */
export async function createCarts(
  url: string,
  count: number,
  linesOf: (i: number) => { variantId: string; quantity: number }[],
): Promise<string[]> {
  return inParallel(Array.from({ length: count }), 8, async (_, i) => {
    const data = await gql(url, CART_CREATE, { input: { lines: linesOf(i) } });
    return data.cartCreate.cart.id as string;
  });
}

/** Carts ready for checkoutComplete: a line of a well-stocked variant, an email, a Berlin address, Standard. */
export async function prepareCheckoutCarts(url: string, count: number, variantGids: string[]): Promise<string[]> {
  const { shippingMethods } = await gql(url, '{ shippingMethods { id name } }');
  const standard = (shippingMethods as { id: string; name: string }[]).find((method) => method.name === 'Standard');
  if (!standard) throw new Error('no Standard shipping method: is the store seeded?');
  return inParallel(Array.from({ length: count }), 8, async (_, i) => {
    const lines = [{ variantId: variantGids[i % variantGids.length]!, quantity: 1 }];
    const created = await gql(url, CART_CREATE, { input: { lines, email: `bench-buyer-${i}@example.test` } });
    const cartId = created.cartCreate.cart.id as string;
    await gql(url, BUYER_UPDATE, { input: { cartId, shippingAddress: BERLIN } });
    await gql(url, SHIPPING_SELECT, { input: { cartId, shippingMethodId: standard.id } });
    return cartId;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Checks of sampled answers: each returns what is wrong, or null.

type Check = (body: string) => string | null;

function parsed(body: string, check: (json: any) => string | null): string | null {
  try {
    return check(JSON.parse(body));
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
}

export const checkListing =
  (first: number): Check =>
  (text) =>
    parsed(text, (json) => {
      const nodes = json?.data?.products?.nodes;
      if (!Array.isArray(nodes) || nodes.length !== first) return `expected ${first} products, got ${nodes?.length}`;
      const bare = nodes.filter((node: any) => !node.variants?.length || !node.categories?.length);
      return bare.length ? `${bare.length} products without variants or categories` : null;
    });

/** PostGraphile's page: 50 products, each with variants. */
export const checkPostgraphileStorefront: Check = (text) =>
  parsed(text, (json) => {
    const nodes = json?.data?.allProducts?.nodes;
    if (!Array.isArray(nodes) || nodes.length !== STOREFRONT_PAGE_SIZE) {
      return `expected ${STOREFRONT_PAGE_SIZE} products, got ${nodes?.length}`;
    }
    const bare = nodes.filter((node: any) => !node.productVariantsByProductId?.nodes?.length);
    return bare.length ? `${bare.length} products without variants` : null;
  });

/**
 * PostGraphile's page (its `data`) in Agora's shape, to compare value by value: prices from cents to Agora's Money
 * for the seeded store's two-decimal USD, as reference.ts formats them, and category names sorted by name, as Agora
 * sorts them (PostGraphile lists them in product_category's key order).
 */
export function postgraphileAsStorefront(data: any): unknown {
  const money = (cents: number) => ({
    amount: `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    currencyCode: 'USD',
  });
  return {
    products: {
      nodes: (data?.allProducts?.nodes ?? []).map((node: any) => ({
        title: node.title,
        slug: node.slug,
        variants: node.productVariantsByProductId.nodes.map((variant: any) => ({
          sku: variant.sku,
          price: money(variant.priceAmount),
          availableForSale: variant.availableForSale,
        })),
        categories: node.productCategoriesByProductId.nodes
          .map((link: any) => ({ name: link.categoryByCategoryId.name as string }))
          .sort((a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      })),
    },
  };
}

export const checkProduct: Check = (text) =>
  parsed(text, (json) => {
    const product = json?.data?.product;
    return product?.variants?.length && product.categories?.length ? null : 'no product with variants and categories';
  });

export const checkCartAdd: Check = (text) =>
  parsed(text, (json) => (json?.data?.cartLinesAdd?.cart?.lines?.length ? null : 'no cart lines in the answer'));

export const checkCheckout: Check = (text) =>
  parsed(text, (json) => {
    const status = json?.data?.checkoutComplete?.order?.financialStatus;
    return status === 'AUTHORIZED' ? null : `order financialStatus ${status}, expected AUTHORIZED`;
  });

/** The path of the first place where two JSON documents differ, or null when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (isDeepStrictEqual(a, b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const difference = firstDifference((a as any)[key], (b as any)[key], `${path}.${key}`);
      if (difference) return difference;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
}
