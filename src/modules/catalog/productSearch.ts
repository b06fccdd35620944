// The SQL behind product lists: filters, full-text search, sorting and keyset pages, for the whole catalog or for
// many categories (each with its descendants) in one statement. Values are always bound parameters; the only
// fragments spliced in are the fixed ones below.
import { Prisma, type PrismaClient, type Product } from '../../generated/prisma/client.js';

export type ProductSortKey = 'TITLE' | 'PRICE' | 'CREATED_AT' | 'RELEVANCE';

export interface ProductCriteria {
  query?: string;
  /** Minor units. */
  minPrice?: number;
  maxPrice?: number;
  availableForSale?: boolean;
}

export interface ProductOrder {
  sortKey: ProductSortKey;
  reverse: boolean;
}

/** Where a page starts and which way it reads; `after` is the [sortValue, id] of the row before the page. */
export interface ProductWindow {
  limit: number;
  backward: boolean;
  after: [SortValue, string] | null;
}

export type SortValue = string | number;
export type ProductPageRow = Product & { scopeId: string | null; sortValue: SortValue };

const { sql, join, raw, empty } = Prisma;
/** The PRICE sort value of a product without variants: above every price an int4 column can hold. */
const NO_PRICE = 2_147_483_648;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Whether a value (from a client's cursor) can be a sort value of `sortKey`. */
export function isSortValue(sortKey: ProductSortKey, value: unknown): value is SortValue {
  switch (sortKey) {
    case 'TITLE':
      return typeof value === 'string';
    case 'CREATED_AT':
      return typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
    case 'PRICE':
      return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= NO_PRICE;
    case 'RELEVANCE':
      return typeof value === 'number' && Number.isFinite(value);
  }
}
const textQuery = (query: string) => sql`websearch_to_tsquery('english', ${query})`;

function sortColumn(order: ProductOrder, criteria: ProductCriteria) {
  switch (order.sortKey) {
    case 'TITLE':
      return { expression: sql`p.title`, type: raw('text'), descending: false };
    case 'CREATED_AT':
      return { expression: sql`p.created_at`, type: raw('timestamptz'), descending: false };
    case 'PRICE':
      return {
        expression: sql`COALESCE((SELECT MIN(v.price_amount) FROM product_variant v WHERE v.product_id = p.id), ${NO_PRICE}::bigint)`,
        type: raw('bigint'),
        descending: false,
      };
    case 'RELEVANCE':
      return {
        expression: sql`ts_rank(p.search_vector, ${textQuery(criteria.query ?? '')})`,
        type: raw('real'),
        descending: true,
      };
  }
}

function conditions(criteria: ProductCriteria): Prisma.Sql {
  const parts = [sql`TRUE`];
  if (criteria.query !== undefined) parts.push(sql`p.search_vector @@ ${textQuery(criteria.query)}`);
  if (criteria.minPrice !== undefined || criteria.maxPrice !== undefined) {
    parts.push(sql`EXISTS (SELECT 1 FROM product_variant v WHERE v.product_id = p.id
      AND v.price_amount >= ${Math.min(criteria.minPrice ?? 0, NO_PRICE)}::bigint
      AND v.price_amount <= ${Math.min(criteria.maxPrice ?? NO_PRICE, NO_PRICE)}::bigint)`);
  }
  if (criteria.availableForSale !== undefined) {
    parts.push(sql`${criteria.availableForSale ? empty : sql`NOT`} EXISTS
      (SELECT 1 FROM product_variant v WHERE v.product_id = p.id AND v.stock_on_hand > v.stock_reserved)`);
  }
  return join(parts, ' AND ');
}

/** Products in each scope category or any category below it, one row per (scope, product). */
const scopedProducts = (scopeIds: string[]) => sql`WITH RECURSIVE tree (root_id, id) AS (
    SELECT id, id FROM category WHERE id = ANY(${scopeIds}::uuid[])
    UNION
    SELECT tree.root_id, c.id FROM category c JOIN tree ON c.parent_id = tree.id
  ), scoped AS (
    SELECT DISTINCT tree.root_id AS scope_id, pc.product_id
    FROM tree JOIN product_category pc ON pc.category_id = tree.id
  )`;

const PRODUCT_COLUMNS = sql`p.id, p.title, p.slug, p.description, p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;

/** One page per scope (or of the whole catalog when `scopeIds` is null), each up to `window.limit + 1` rows in
 * scan order. */
export async function findProductPages(
  prisma: PrismaClient,
  scopeIds: string[] | null,
  criteria: ProductCriteria,
  order: ProductOrder,
  window: ProductWindow,
): Promise<ProductPageRow[]> {
  const sort = sortColumn(order, criteria);
  const descending = (sort.descending !== order.reverse) !== window.backward;
  const direction = raw(descending ? 'DESC' : 'ASC');
  const orderBy = sql`${sort.expression} ${direction}, p.id ${direction}`;
  const keyset = window.after
    ? sql`(${sort.expression}, p.id) ${raw(descending ? '<' : '>')} (${window.after[0]}::${sort.type}, ${window.after[1]}::uuid)`
    : sql`TRUE`;
  const rows = await prisma.$queryRaw<ProductPageRow[]>(
    scopeIds === null
      ? sql`SELECT ${PRODUCT_COLUMNS}, NULL::uuid AS "scopeId", ${sort.expression} AS "sortValue"
          FROM product p WHERE ${conditions(criteria)} AND ${keyset}
          ORDER BY ${orderBy} LIMIT ${window.limit + 1}`
      : sql`${scopedProducts(scopeIds)}
          SELECT id, title, slug, description, "createdAt", "updatedAt", "scopeId", "sortValue" FROM (
            SELECT ${PRODUCT_COLUMNS}, s.scope_id AS "scopeId", ${sort.expression} AS "sortValue",
              row_number() OVER (PARTITION BY s.scope_id ORDER BY ${orderBy}) AS position
            FROM product p JOIN scoped s ON s.product_id = p.id
            WHERE ${conditions(criteria)} AND ${keyset}
          ) ranked
          WHERE position <= ${window.limit + 1} ORDER BY "scopeId", position`,
  );
  return rows.map((row) => ({ ...row, sortValue: jsonSortValue(row.sortValue) }));
}

/** Sort values as they travel in cursors: timestamps as ISO strings, bigints as numbers. */
function jsonSortValue(value: unknown): SortValue {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  return value as SortValue;
}

/** How many products match, per scope (key null for the whole catalog). */
export async function countProducts(
  prisma: PrismaClient,
  scopeIds: string[] | null,
  criteria: ProductCriteria,
): Promise<Map<string | null, number>> {
  const rows = await prisma.$queryRaw<{ scopeId: string | null; count: number }[]>(
    scopeIds === null
      ? sql`SELECT NULL::uuid AS "scopeId", count(*)::int AS count FROM product p WHERE ${conditions(criteria)}`
      : sql`${scopedProducts(scopeIds)}
          SELECT s.scope_id AS "scopeId", count(*)::int AS count
          FROM product p JOIN scoped s ON s.product_id = p.id
          WHERE ${conditions(criteria)} GROUP BY s.scope_id`,
  );
  return new Map(rows.map((row) => [row.scopeId, row.count]));
}
