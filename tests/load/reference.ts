// The reference: the practical limit for serving a catalog page on this machine. A plain node:http server and a pg
// Pool answer every request (any path; POST bodies are read and ignored) with one fixed page of PAGE_SIZE products:
// PAGE=listing (the default) is the page LISTING_QUERY in scenarios.ts asks Agora for, PAGE=storefront the page of
// STOREFRONT_QUERY. Same fields, same JSON shape ({ data: { products: { nodes: [...] } } }) and the same order as
// Agora's answer, built by PostgreSQL in ONE statement (json_agg and json_build_object) and written out as it
// arrives, never parsed. Money is formatted for a two-decimal currency (the seeded store's USD).
//   REFERENCE_DATABASE_URL=postgresql://… PORT=4100 PAGE=storefront tsx tests/load/reference.ts
import http from 'node:http';
import pg from 'pg';

/** Relay global ID, as src/graphql/globalId.ts makes it: base64url("<Type>:<uuid>") without padding. */
const globalId = (type: string, column: string) =>
  `translate(encode(convert_to('${type}:' || ${column}::text, 'UTF8'), 'base64'), E'+/=\\n', '-_')`;
const money = (column: string) =>
  `json_build_object('amount', (${column} / 100)::text || '.' || lpad((${column} % 100)::text, 2, '0'), 'currencyCode', 'USD')`;

/**
 * One page: the JSON fields of a product (p: product, v: its variants' lateral, c: its categories'), of a variant
 * (pv) and of a category (cat), in the order of the query's selection, and what else the variants' lateral computes.
 */
interface Page {
  product: Record<string, string>;
  variant: Record<string, string>;
  category: Record<string, string>;
  variantAggregates?: Record<string, string>;
}

const VARIANTS = `COALESCE(v.variants, '[]'::json)`;
const CATEGORIES = `COALESCE(c.categories, '[]'::json)`;

const PAGES = {
  /** LISTING_QUERY: a storefront's product grid with IDs, price ranges and every variant field. */
  listing: {
    product: {
      id: globalId('Product', 'p.id'),
      title: 'p.title',
      slug: 'p.slug',
      availableForSale: 'COALESCE(v.available, false)',
      priceRange: `CASE WHEN v.min_price IS NULL THEN NULL ELSE json_build_object(
        'minVariantPrice', ${money('v.min_price')}, 'maxVariantPrice', ${money('v.max_price')}) END`,
      variants: VARIANTS,
      categories: CATEGORIES,
    },
    variant: {
      id: globalId('ProductVariant', 'pv.id'),
      sku: 'pv.sku',
      title: 'pv.title',
      availableForSale: 'pv.stock_on_hand > pv.stock_reserved',
      price: money('pv.price_amount'),
      compareAtPrice: `CASE WHEN pv.compare_at_amount IS NULL THEN NULL ELSE ${money('pv.compare_at_amount')} END`,
      selectedOptions: 'pv.selected_options',
    },
    category: { id: globalId('Category', 'cat.id'), name: 'cat.name', slug: 'cat.slug' },
    variantAggregates: {
      min_price: 'min(pv.price_amount)',
      max_price: 'max(pv.price_amount)',
      available: 'bool_or(pv.stock_on_hand > pv.stock_reserved)',
    },
  },
  /** STOREFRONT_QUERY (issue 13's page): titles, slugs, variants' SKU, price and availability, category names. */
  storefront: {
    product: { title: 'p.title', slug: 'p.slug', variants: VARIANTS, categories: CATEGORIES },
    variant: {
      sku: 'pv.sku',
      price: money('pv.price_amount'),
      availableForSale: 'pv.stock_on_hand > pv.stock_reserved',
    },
    category: { name: 'cat.name' },
  },
} satisfies Record<string, Page>;

const object = (fields: Record<string, string>) =>
  `json_build_object(${Object.entries(fields)
    .map(([name, sql]) => `'${name}', ${sql}`)
    .join(', ')})`;

/** The page in one statement; $1 is the page size. */
function pageSql(page: Page): string {
  const aggregates = Object.entries(page.variantAggregates ?? {}).map(([name, sql]) => `,\n    ${sql} AS ${name}`);
  return `
SELECT json_build_object('data', json_build_object('products', json_build_object('nodes',
  COALESCE(json_agg(${object(page.product)} ORDER BY p.created_at, p.id), '[]'::json))))::text AS body
FROM (SELECT id, title, slug, created_at FROM product ORDER BY created_at, id LIMIT $1) p
LEFT JOIN LATERAL (
  SELECT json_agg(${object(page.variant)} ORDER BY pv.position, pv.id) AS variants${aggregates.join('')}
  FROM product_variant pv WHERE pv.product_id = p.id
) v ON true
LEFT JOIN LATERAL (
  SELECT json_agg(${object(page.category)} ORDER BY cat.name, cat.id) AS categories
  FROM product_category pc JOIN category cat ON cat.id = pc.category_id WHERE pc.product_id = p.id
) c ON true`;
}

const url = process.env.REFERENCE_DATABASE_URL;
if (!url) {
  console.error('REFERENCE_DATABASE_URL is required');
  process.exit(64);
}
const pageName = process.env.PAGE ?? 'listing';
if (!Object.hasOwn(PAGES, pageName)) {
  console.error(`PAGE: one of ${Object.keys(PAGES).join(', ')}`);
  process.exit(64);
}
const PAGE_SQL = pageSql(PAGES[pageName as keyof typeof PAGES]);
const pageSize = Number(process.env.PAGE_SIZE ?? 50);
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.POOL_SIZE ?? 10) });

const server = http.createServer((req, res) => {
  req.resume(); // read and drop the body
  req.once('end', () => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    pool.query<{ body: string }>({ name: 'page', text: PAGE_SQL, values: [pageSize] }).then(
      ({ rows }) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(rows[0]!.body);
      },
      (error: unknown) => {
        console.error(error);
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"reference failed"}]}');
      },
    );
  });
});

server.listen(Number(process.env.PORT ?? 4100), '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void pool.end().then(() => process.exit(0));
  });
}
