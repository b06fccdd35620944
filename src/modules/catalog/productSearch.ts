// The SQL behind product lists: filters, full-text search, sorting and keyset pages, for the whole catalog or for
// many categories (each with its descendants) in one statement. Values are always bound parameters; the only
// fragments spliced in are the fixed ones below. TITLE, CREATED_AT and PRICE each have an index on product in their
// order (see the list_indexes migration), so a page of the catalog reads its own rows rather than sorting the
// catalog; RELEVANCE ranks what the full-text (GIN) index finds; a category's page ranks that category's products
// unless walking the sort index is cheaper. tests/indexes.test.ts checks the plans on a catalog of realistic size.
import {
  Prisma,
  type Category,
  type PrismaClient,
  type Product,
  type ProductVariant,
} from '../../generated/prisma/client.js';
import { cursorPart } from '../../graphql/connection.js';
import {
  categoriesOfPage,
  productColumns,
  timestampsToDates,
  variantsOfPage,
  type PageColumns,
} from './pageColumns.js';

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

/** A product of a page, with its variants and categories when the page fetched them, each product's in the order its
 * loader gives. Only the columns the page asked for are set: such a row (or its variants or categories) is answered
 * from as it is, and never goes into a loader's cache, where another field could read a column it lacks. */
export type ProductPageRow = Product & {
  scopeId: string | null;
  sortValue: SortValue;
  variants?: ProductVariant[];
  categories?: Category[];
};

const { sql, join, raw, empty } = Prisma;
/** The PRICE sort value of a product without variants: above every price an int4 column can hold. */
const NO_PRICE = 2_147_483_648;
/** The PRICE sort key: product.min_price_amount (kept by triggers on product_variant), spelled exactly as
 * product_price_sort_idx is, with the constant inline rather than bound, so that the planner matches the index. */
const PRICE_SORT_KEY = sql`COALESCE(p.min_price_amount, ${raw(String(NO_PRICE))})`;

/** Whether a value (from a client's cursor) can be a sort value of `sortKey`. */
export function isSortValue(sortKey: ProductSortKey, value: unknown): value is SortValue {
  switch (sortKey) {
    case 'TITLE':
      return cursorPart.text(value);
    case 'CREATED_AT':
      return cursorPart.timestamp(value);
    case 'PRICE':
      return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= NO_PRICE;
    case 'RELEVANCE':
      return cursorPart.real(value);
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
      return { expression: PRICE_SORT_KEY, type: raw('bigint'), descending: false };
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

/** `tree`: each scope category (root_id) with every category at or below it (id). */
const categoryTrees = (scopeIds: string[]) => sql`WITH RECURSIVE tree (root_id, id) AS (
    SELECT id, id FROM category WHERE id = ANY(${scopeIds}::uuid[])
    UNION
    SELECT tree.root_id, c.id FROM category c JOIN tree ON c.parent_id = tree.id
  )`;

/** Whether product p is listed in the tree of the category `scope` (a row of category). */
const IN_SCOPE = sql`EXISTS (SELECT 1 FROM product_category pc JOIN tree ON tree.id = pc.category_id
    WHERE tree.root_id = scope.id AND pc.product_id = p.id)`;

/** One page per scope (or of the whole catalog when `scopeIds` is null), each up to `window.limit + 1` rows in
 * scan order, with only the `columns` asked for (by default, none beyond the keys). */
export async function findProductPages(
  prisma: PrismaClient,
  scopeIds: string[] | null,
  criteria: ProductCriteria,
  order: ProductOrder,
  window: ProductWindow,
  columns: PageColumns = { product: [], variants: null, categories: null },
): Promise<ProductPageRow[]> {
  const sort = sortColumn(order, criteria);
  const descending = (sort.descending !== order.reverse) !== window.backward;
  const direction = raw(descending ? 'DESC' : 'ASC');
  const orderBy = sql`${sort.expression} ${direction}, p.id ${direction}`;
  const keyset = window.after
    ? sql`(${sort.expression}, p.id) ${raw(descending ? '<' : '>')} (${window.after[0]}::${sort.type}, ${window.after[1]}::uuid)`
    : sql`TRUE`;
  const selected = productColumns(columns.product);
  // One page per scope, each its own ORDER BY ... LIMIT (a LATERAL subquery), so that the planner can walk the sort
  // index or the scope's product_category rows, whichever is cheaper, instead of ranking every scoped product.
  const page =
    scopeIds === null
      ? sql`SELECT ${selected}, NULL::uuid AS "scopeId", ${sort.expression} AS "sortValue"
          FROM product p WHERE ${conditions(criteria)} AND ${keyset}
          ORDER BY ${orderBy} LIMIT ${window.limit + 1}`
      : sql`${categoryTrees(scopeIds)}
          SELECT page.* FROM category scope CROSS JOIN LATERAL (
            SELECT ${selected}, scope.id AS "scopeId", ${sort.expression} AS "sortValue"
            FROM product p WHERE ${IN_SCOPE} AND ${conditions(criteria)} AND ${keyset}
            ORDER BY ${orderBy} LIMIT ${window.limit + 1}
          ) page
          WHERE scope.id = ANY(${scopeIds}::uuid[])
          ORDER BY page."scopeId", page."sortValue" ${direction}, page.id ${direction}`;
  const relations: Prisma.Sql[] = [];
  if (columns.variants) relations.push(variantsOfPage(columns.variants));
  if (columns.categories) relations.push(categoriesOfPage(columns.categories));
  const rows = await prisma.$queryRaw<ProductPageRow[]>(
    relations.length
      ? sql`SELECT page.*, ${join(relations, ', ')} FROM (${page}) page
          ORDER BY page."scopeId", page."sortValue" ${direction}, page.id ${direction}`
      : page,
  );
  // The rows as they came, changed in place: no copies, and no Dates for timestamps nobody asked for.
  for (const row of rows) {
    row.sortValue = jsonSortValue(row.sortValue);
    if (columns.variants) timestampsToDates(row.variants!, columns.variants);
    if (columns.categories) timestampsToDates(row.categories!, columns.categories);
  }
  return rows;
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
      : sql`${categoryTrees(scopeIds)}
          SELECT scope.id AS "scopeId", matching.count FROM category scope CROSS JOIN LATERAL (
            SELECT count(*)::int AS count FROM product p WHERE ${IN_SCOPE} AND ${conditions(criteria)}
          ) matching
          WHERE scope.id = ANY(${scopeIds}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.scopeId, row.count]));
}
