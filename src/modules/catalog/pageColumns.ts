// What a product page statement fetches: the product columns and the variants' and categories' JSON keys a query's
// fields read (listing.ts's FIELD_READS picks them), and the fixed SQL of each, the only fragments spliced in.
import { Prisma } from '../../generated/prisma/client.js';

const { sql, raw } = Prisma;

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
export const productColumns = (names: readonly ProductColumn[]) =>
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
export const variantsOfPage = (keys: readonly VariantKey[]) =>
  sql`(SELECT coalesce(json_agg(${jsonObject(VARIANT_KEYS, keys, VARIANT_KEY_SQL, 'v')} ORDER BY v.position, v.id), '[]')
    FROM product_variant v WHERE v.product_id = page.id) AS variants`;
export const categoriesOfPage = (keys: readonly CategoryKey[]) =>
  sql`(SELECT coalesce(json_agg(${jsonObject(CATEGORY_KEYS, keys, CATEGORY_KEY_SQL, 'c')} ORDER BY c.name, c.id), '[]')
    FROM product_category pc JOIN category c ON c.id = pc.category_id WHERE pc.product_id = page.id) AS categories`;

/** JSON carries timestamps as strings; the models hold Dates. Changed in place, and only when the page fetched them. */
export function timestampsToDates(rows: { createdAt?: unknown; updatedAt?: unknown }[], keys: readonly string[]): void {
  const createdAt = keys.includes('createdAt');
  const updatedAt = keys.includes('updatedAt');
  if (!createdAt && !updatedAt) return;
  for (const row of rows) {
    if (createdAt) row.createdAt = new Date(row.createdAt as string);
    if (updatedAt) row.updatedAt = new Date(row.updatedAt as string);
  }
}
