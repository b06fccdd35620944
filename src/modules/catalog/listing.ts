// Product and category lists as Relay connections.
import type { GraphQLResolveInfo } from 'graphql';
import type { Category, PrismaClient, Product } from '../../generated/prisma/client.js';
import type { ProductFilter, ProductSortKeys } from '../../generated/graphql.js';
import { cursorPart, pageWindow, toConnection, type Connection, type PageArgs } from '../../graphql/connection.js';
import { badUserInput } from '../../graphql/errors.js';
import { requireDatabaseId } from '../../graphql/globalId.js';
import { selectedNodeFields } from '../../graphql/lookahead.js';
import { toMinorUnits } from '../../money.js';
import type { CatalogLoaders } from './loaders.js';
import { isSortValue, type PageRelations, type ProductCriteria, type ProductPageRow } from './productSearch.js';

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

/** The relations of the listed products that the query reads (priceRange and availableForSale read the variants). */
function relationsRead(info: GraphQLResolveInfo): PageRelations {
  const fields = selectedNodeFields(info);
  return {
    variants: fields.has('variants') || fields.has('priceRange') || fields.has('availableForSale'),
    categories: fields.has('categories'),
  };
}

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
    relations: relationsRead(info),
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
