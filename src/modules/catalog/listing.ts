// Product and category lists as Relay connections.
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { Category, PrismaClient, Product, ProductVariant } from '../../generated/prisma/client.js';
import type { ProductFilter, ProductSortKeys } from '../../generated/graphql.js';
import { cursorPart, pageWindow, toConnection, type Connection, type PageArgs } from '../../graphql/connection.js';
import { badUserInput } from '../../graphql/errors.js';
import { requireDatabaseId } from '../../graphql/globalId.js';
import { fieldsBelow, nodeSelection, type Selection, type SelectionContext } from '../../graphql/lookahead.js';
import { toMinorUnits } from '../../money.js';
import type { CatalogLoaders } from './loaders.js';
import {
  CATEGORY_KEYS,
  PRODUCT_COLUMNS,
  VARIANT_KEYS,
  type CategoryKey,
  type PageColumns,
  type ProductColumn,
  type VariantKey,
} from './pageColumns.js';
import { isSortValue, type ProductCriteria, type ProductPageRow } from './productSearch.js';

export interface ProductListArgs extends PageArgs {
  filter?: ProductFilter | null;
  sortKey?: ProductSortKeys | null;
  reverse?: boolean | null;
}

function priceBound(value: string | null | undefined, currency: string, argument: string): number | undefined {
  if (value == null) return undefined;
  const minor = toMinorUnits(value, currency);
  if (minor === null || minor < 0) throw badUserInput(`\`${argument}\` is not a valid ${currency} amount.`, argument);
  return minor;
}

function criteriaOf(filter: ProductFilter | null | undefined, currency: string): ProductCriteria {
  const query = filter?.query?.trim();
  if (query !== undefined && query.length > 256) throw badUserInput('`filter.query` is longer than 256 characters.');
  return {
    ...(query && { query }),
    ...(filter?.availableForSale != null && { availableForSale: filter.availableForSale }),
    minPrice: priceBound(filter?.minPrice, currency, 'filter.minPrice'),
    maxPrice: priceBound(filter?.maxPrice, currency, 'filter.maxPrice'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// What the fields of a listed product read
// ---------------------------------------------------------------------------------------------------------------

/** What one field reads from the row of its object: columns of a product, keys of a variant's or category's JSON;
 * on a product, also the keys of its variants or categories (`variants` and `categories`: the relation, with
 * whatever the fields selected below it read). */
interface Reads {
  product?: readonly ProductColumn[];
  variants?: readonly VariantKey[];
  categories?: readonly CategoryKey[];
}

/**
 * The one table of what each field of Product, ProductVariant and Category (in resolvers.ts, and fields other modules
 * add to these types) reads from its object, beyond the object's `id`, which a page always fetches. A product page
 * statement fetches exactly what the selected fields read. Change it with the resolver: a field missing from it makes
 * the page fetch every column of its object (a test walks the schema for fields missing here).
 */
export const FIELD_READS: Record<'Product' | 'ProductVariant' | 'Category', Record<string, Reads>> = {
  Product: {
    id: {},
    title: { product: ['title'] },
    slug: { product: ['slug'] },
    description: { product: ['description'] },
    createdAt: { product: ['createdAt'] },
    updatedAt: { product: ['updatedAt'] },
    variants: { variants: [] },
    categories: { categories: [] },
    priceRange: { variants: ['priceAmount'] },
    availableForSale: { variants: ['stockOnHand', 'stockReserved'] },
  },
  ProductVariant: {
    id: {},
    sku: { variants: ['sku'] },
    title: { variants: ['title'] },
    price: { variants: ['priceAmount'] },
    compareAtPrice: { variants: ['compareAtAmount'] },
    selectedOptions: { variants: ['selectedOptions'] },
    availableForSale: { variants: ['stockOnHand', 'stockReserved'] },
    product: { variants: ['productId'] },
    // the inventory module's
    inventory: { variants: ['stockOnHand', 'stockReserved'] },
    inventoryHistory: {},
  },
  Category: {
    id: {},
    name: { categories: ['name'] },
    slug: { categories: ['slug'] },
    description: { categories: ['description'] },
    parent: { categories: ['parentId'] },
    children: {},
    products: {},
  },
};

/** What a field not in FIELD_READS may read: everything its object has. */
const UNKNOWN_FIELD: Record<keyof typeof FIELD_READS, Reads> = {
  Product: { product: PRODUCT_COLUMNS },
  ProductVariant: { variants: VARIANT_KEYS },
  Category: { categories: CATEGORY_KEYS },
};

/** What the fields of `selection` (on objects of `type`) read, added to `into`. */
function addReads(type: keyof typeof FIELD_READS, selection: Selection, operation: SelectionContext, into: Needs) {
  for (const [name, nodes] of selection) {
    if (name === '__typename') continue;
    const reads = Object.hasOwn(FIELD_READS[type], name) ? FIELD_READS[type][name]! : UNKNOWN_FIELD[type];
    for (const column of reads.product ?? []) into.product.add(column);
    if (reads.variants) {
      into.variants ??= new Set();
      for (const key of reads.variants) into.variants.add(key);
    }
    if (reads.categories) {
      into.categories ??= new Set();
      for (const key of reads.categories) into.categories.add(key);
    }
    if (type !== 'Product') continue;
    if (name === 'variants') addReads('ProductVariant', fieldsBelow(nodes, operation), operation, into);
    if (name === 'categories') addReads('Category', fieldsBelow(nodes, operation), operation, into);
  }
}

interface Needs {
  product: Set<ProductColumn>;
  variants: Set<VariantKey> | null;
  categories: Set<CategoryKey> | null;
}

/** The columns a product page fetches for the fields selected on its nodes. */
export function pageColumns(selection: Selection, operation: SelectionContext): PageColumns {
  const needs: Needs = { product: new Set(), variants: null, categories: null };
  addReads('Product', selection, operation, needs);
  const inOrder = <T>(order: readonly T[], names: Set<T> | null) => names && order.filter((name) => names.has(name));
  return {
    product: inOrder(PRODUCT_COLUMNS, needs.product)!,
    variants: inOrder(VARIANT_KEYS, needs.variants),
    categories: inOrder(CATEGORY_KEYS, needs.categories),
  };
}

/** The columns per connection field of an operation: a field under a list (Category.products in `categories`)
 * resolves many times with the same field nodes and variables. */
const columnsOfField = new WeakMap<readonly FieldNode[], { variables: unknown; columns: PageColumns }>();

function columnsRead(info: GraphQLResolveInfo): PageColumns {
  const known = columnsOfField.get(info.fieldNodes);
  if (known?.variables === info.variableValues) return known.columns;
  const columns = pageColumns(nodeSelection(info), info);
  columnsOfField.set(info.fieldNodes, { variables: info.variableValues, columns });
  return columns;
}

/** The variants a product page fetched with `product`, if it did (then every field selected on them can read what
 * it needs from them); else undefined, and the variants come from their loader. */
export const listedVariants = (product: Product): ProductVariant[] | undefined => (product as ProductPageRow).variants;

/** The categories a product page fetched with `product`, as listedVariants. */
export const listedCategories = (product: Product): Category[] | undefined => (product as ProductPageRow).categories;

/** Products of a category (with its descendants) when `scopeId` is given, else of the whole catalog; the relations
 * the query reads come in the same statement. */
export async function productConnection(
  loaders: CatalogLoaders,
  scopeId: string | null,
  args: ProductListArgs,
  currency: string,
  info: GraphQLResolveInfo,
): Promise<Connection<Product>> {
  const criteria = criteriaOf(args.filter, currency);
  const sortKey = args.sortKey ?? 'CREATED_AT';
  if (sortKey === 'RELEVANCE' && !criteria.query) throw badUserInput('`sortKey: RELEVANCE` needs `filter.query`.');
  const window = pageWindow(args, (raw) => {
    const [key, value, id] = (Array.isArray(raw) ? raw : []) as unknown[];
    const valid = key === sortKey && isSortValue(sortKey, value) && cursorPart.uuid(id);
    return valid ? ([value, id] as const) : null;
  });
  const order = { sortKey, reverse: Boolean(args.reverse) };
  const rows = await loaders.productPages.load({
    scopeId,
    criteria,
    order,
    window: { limit: window.limit, backward: window.backward, after: window.cursor ? [...window.cursor] : null },
    columns: columnsRead(info),
  });
  return toConnection<ProductPageRow>(
    rows,
    window,
    (row) => [sortKey, row.sortValue, row.id],
    () => loaders.productCounts.load({ scopeId, criteria }),
  );
}

export interface CategoryListArgs extends PageArgs {
  parentId?: string | null;
  topLevel?: boolean | null;
}

/** Categories by name, then ID, as keyset pages. */
export async function categoryConnection(prisma: PrismaClient, args: CategoryListArgs): Promise<Connection<Category>> {
  if (args.parentId != null && args.topLevel) throw badUserInput('Pass `parentId` or `topLevel`, not both.');
  const parentId = args.parentId != null ? requireDatabaseId(args.parentId, 'Category', 'parentId') : undefined;
  const where = args.topLevel ? { parentId: null } : parentId ? { parentId } : {};
  const window = pageWindow(args, (raw) => {
    const [name, id] = (Array.isArray(raw) ? raw : []) as unknown[];
    return cursorPart.text(name) && cursorPart.uuid(id) ? { name, id } : null;
  });
  const after = window.cursor;
  const direction = window.backward ? 'desc' : 'asc';
  const beyond = window.backward ? 'lt' : 'gt';
  const rows = await prisma.category.findMany({
    where: {
      ...where,
      ...(after && { OR: [{ name: { [beyond]: after.name } }, { name: after.name, id: { [beyond]: after.id } }] }),
    },
    orderBy: [{ name: direction }, { id: direction }],
    take: window.limit + 1,
  });
  return toConnection(
    rows,
    window,
    (c) => [c.name, c.id],
    () => prisma.category.count({ where }),
  );
}
