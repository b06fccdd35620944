// The reference: the practical limit for serving the catalog listing on this machine. A plain node:http server
// and a pg Pool answer every request (any path; POST bodies are read and ignored) with the page of PAGE_SIZE
// products that LISTING_QUERY in scenarios.ts asks Agora for: the same fields, the same JSON shape
// ({ data: { products: { nodes: [...] } } }) and the same order, built by PostgreSQL in ONE statement (json_agg
// and json_build_object) and written out as it arrives, never parsed. Money is formatted for a two-decimal
// currency (the seeded store's USD).
//   REFERENCE_DATABASE_URL=postgresql://… PORT=4100 tsx tests/load/reference.ts
import http from 'node:http';
import pg from 'pg';

/** Relay global ID, as src/graphql/globalId.ts makes it: base64url("<Type>:<uuid>") without padding. */
const globalId = (type: string, column: string) =>
  `translate(encode(convert_to('${type}:' || ${column}::text, 'UTF8'), 'base64'), E'+/=\\n', '-_')`;
const money = (column: string) =>
  `json_build_object('amount', (${column} / 100)::text || '.' || lpad((${column} % 100)::text, 2, '0'), 'currencyCode', 'USD')`;

const PAGE_SQL = `
SELECT json_build_object('data', json_build_object('products', json_build_object('nodes',
  COALESCE(json_agg(json_build_object(
    'id', ${globalId('Product', 'p.id')},
    'title', p.title,
    'slug', p.slug,
    'availableForSale', COALESCE(v.available, false),
    'priceRange', CASE WHEN v.min_price IS NULL THEN NULL ELSE json_build_object(
      'minVariantPrice', ${money('v.min_price')}, 'maxVariantPrice', ${money('v.max_price')}) END,
    'variants', COALESCE(v.variants, '[]'::json),
    'categories', COALESCE(c.categories, '[]'::json)
  ) ORDER BY p.created_at, p.id), '[]'::json))))::text AS body
FROM (SELECT id, title, slug, created_at FROM product ORDER BY created_at, id LIMIT $1) p
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object(
      'id', ${globalId('ProductVariant', 'pv.id')},
      'sku', pv.sku,
      'title', pv.title,
      'availableForSale', pv.stock_on_hand > pv.stock_reserved,
      'price', ${money('pv.price_amount')},
      'compareAtPrice', CASE WHEN pv.compare_at_amount IS NULL THEN NULL ELSE ${money('pv.compare_at_amount')} END,
      'selectedOptions', pv.selected_options
    ) ORDER BY pv.position, pv.id) AS variants,
    min(pv.price_amount) AS min_price,
    max(pv.price_amount) AS max_price,
    bool_or(pv.stock_on_hand > pv.stock_reserved) AS available
  FROM product_variant pv WHERE pv.product_id = p.id
) v ON true
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object('id', ${globalId('Category', 'cat.id')}, 'name', cat.name, 'slug', cat.slug)
    ORDER BY cat.name, cat.id) AS categories
  FROM product_category pc JOIN category cat ON cat.id = pc.category_id WHERE pc.product_id = p.id
) c ON true`;

const url = process.env.REFERENCE_DATABASE_URL;
if (!url) {
  console.error('REFERENCE_DATABASE_URL is required');
  process.exit(64);
}
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
