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

// What a page statement can fetch, named as in the Prisma models. The ID of every row comes always; the rest only
// when a field of the query reads it (listing.ts's FIELD_READS decides which).
export const PRODUCT_COLUMNS = ['title', 'slug', 'description', 'createdAt', 'updatedAt', 'minPriceAmount'] as const;
export const VARIANT_KEYS = [
  'productId',
  'sku',
  'title',
  'priceAmount',
  'compareAtAmount',
  'selectedOptions',
  'stockOnHand',
  'stockReserved',
  'position',
  'createdAt',
  'updatedAt',
] as const;
export const CATEGORY_KEYS = ['name', 'slug', 'description', 'parentId', 'createdAt', 'updatedAt'] as const;
export type ProductColumn = (typeof PRODUCT_COLUMNS)[number];
export type VariantKey = (typeof VARIANT_KEYS)[number];
export type CategoryKey = (typeof CATEGORY_KEYS)[number];

/** What a page fetches beside each product's ID, sort value and scope: product columns, and the keys of the
 * variants' and categories' JSON (null: the relation is not fetched). Each list in its constant's order. */
export interface PageColumns {
  product: ProductColumn[];
  variants: VariantKey[] | null;
  categories: CategoryKey[] | null;
}

/** Every column of every row: what a Prisma model holds. */
export const ALL_COLUMNS: PageColumns = {
  product: [...PRODUCT_COLUMNS],
  variants: [...VARIANT_KEYS],
  categories: [...CATEGORY_KEYS],
};

/** The names of `order` that are in `a` or `b`. */
function union<T extends string>(order: readonly T[], a: readonly T[] | null, b: readonly T[] | null): T[] | null {
  if (a === null || b === null) return a ? [...a] : b && [...b];
  return order.filter((name) => a.includes(name) || b.includes(name));
}

/** What two queries of the same page need together. */
export const mergeColumns = (a: PageColumns, b: PageColumns): PageColumns => ({
  product: union(PRODUCT_COLUMNS, a.product, b.product)!,
  variants: union(VARIANT_KEYS, a.variants, b.variants),
  categories: union(CATEGORY_KEYS, a.categories, b.categories),
});

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

// The SQL of each column and key a page can fetch. Only these fixed fragments are spliced into the statement.
const PRODUCT_COLUMN_SQL: Record<ProductColumn, string> = {
  title: 'p.title',
  slug: 'p.slug',
  description: 'p.description',
  createdAt: 'p.created_at AS "createdAt"',
  updatedAt: 'p.updated_at AS "updatedAt"',
  minPriceAmount: 'p.min_price_amount AS "minPriceAmount"',
};
const VARIANT_KEY_SQL: Record<VariantKey, string> = {
  productId: 'v.product_id',
  sku: 'v.sku',
  title: 'v.title',
  priceAmount: 'v.price_amount',
  compareAtAmount: 'v.compare_at_amount',
  selectedOptions: 'v.selected_options',
  stockOnHand: 'v.stock_on_hand',
  stockReserved: 'v.stock_reserved',
  position: 'v.position',
  createdAt: 'v.created_at',
  updatedAt: 'v.updated_at',
};
const CATEGORY_KEY_SQL: Record<CategoryKey, string> = {
  name: 'c.name',
  slug: 'c.slug',
  description: 'c.description',
  parentId: 'c.parent_id',
  createdAt: 'c.created_at',
  updatedAt: 'c.updated_at',
};

/** `names` (those of `order` only) as `p.id, p.title, ...`. */
const productColumns = (names: readonly ProductColumn[]) =>
  raw(
    ['p.id', ...PRODUCT_COLUMNS.filter((name) => names.includes(name)).map((name) => PRODUCT_COLUMN_SQL[name])].join(
      ', ',
    ),
  );

/** `json_build_object('id', x.id, 'name', x.name, ...)` of the keys of `order` that are in `names`. */
function jsonObject<K extends string>(
  order: readonly K[],
  names: readonly K[],
  sqlOf: Record<K, string>,
  alias: string,
) {
  const pairs = order.filter((name) => names.includes(name)).map((name) => `, '${name}', ${sqlOf[name]}`);
  return raw(`json_build_object('id', ${alias}.id${pairs.join('')})`);
}

// A page's variants and categories as JSON, each product's in the order their loaders give. Computed on the page's
// rows only (the page is a subquery), never on the rows the scan passed over.
const variantsOfPage = (keys: readonly VariantKey[]) =>
  sql`(SELECT coalesce(json_agg(${jsonObject(VARIANT_KEYS, keys, VARIANT_KEY_SQL, 'v')} ORDER BY v.position, v.id), '[]')
    FROM product_variant v WHERE v.product_id = page.id) AS variants`;
const categoriesOfPage = (keys: readonly CategoryKey[]) =>
  sql`(SELECT coalesce(json_agg(${jsonObject(CATEGORY_KEYS, keys, CATEGORY_KEY_SQL, 'c')} ORDER BY c.name, c.id), '[]')
    FROM product_category pc JOIN category c ON c.id = pc.category_id WHERE pc.product_id = page.id) AS categories`;

/** JSON carries timestamps as strings; the models hold Dates. Changed in place, and only when the page fetched them. */
function timestampsToDates(rows: { createdAt?: unknown; updatedAt?: unknown }[], keys: readonly string[]): void {
  const createdAt = keys.includes('createdAt');
  const updatedAt = keys.includes('updatedAt');
  if (!createdAt && !updatedAt) return;
  for (const row of rows) {
    if (createdAt) row.createdAt = new Date(row.createdAt as string);
    if (updatedAt) row.updatedAt = new Date(row.updatedAt as string);
  }
}

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
