// Per-request batchers for the catalog: every relation field and list resolves through these, so a page of N
// products costs the same few statements whatever N is.
import DataLoader from 'dataloader';
import type { Category, PrismaClient, Product, ProductVariant } from '../../generated/prisma/client.js';
import { loaderByKey, loaderGroupedBy } from '../../db/batch.js';
import { mergeColumns, type PageColumns } from './pageColumns.js';
import {
  countProducts,
  findProductPages,
  type ProductCriteria,
  type ProductOrder,
  type ProductPageRow,
  type ProductWindow,
} from './productSearch.js';

export interface ProductPageKey {
  /** A category whose products (with its descendants') to list, or null for the whole catalog. */
  scopeId: string | null;
  criteria: ProductCriteria;
  order: ProductOrder;
  window: ProductWindow;
  /** The columns the query reads from the page's products and their relations, fetched with the page. */
  columns: PageColumns;
}

export type ProductCountKey = Pick<ProductPageKey, 'scopeId' | 'criteria'>;

type CategoryOfProduct = Category & { productId: string };

/** Runs `fetch` once per group of keys that are the same but for their scope (and whatever `shared` leaves out),
 * and hands each key its scope's rows. */
function batchByScope<K extends { scopeId: string | null }, R>(
  fetch: (scopeIds: string[] | null, group: K[]) => Promise<(scopeId: string | null) => R>,
  shared: (key: K) => object = (key) => key,
) {
  return async (keys: readonly K[]): Promise<R[]> => {
    const groups = new Map<string, K[]>();
    for (const key of keys) {
      const signature = JSON.stringify({ ...shared(key), scopeId: key.scopeId === null });
      const group = groups.get(signature);
      if (group) group.push(key);
      else groups.set(signature, [key]);
    }
    const results = new Map<K, R>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const scopeIds = group[0]!.scopeId === null ? null : [...new Set(group.map((key) => key.scopeId!))];
        const pick = await fetch(scopeIds, group);
        for (const key of group) results.set(key, pick(key.scopeId));
      }),
    );
    return keys.map((key) => results.get(key)!);
  };
}

const byJson = { cacheKeyFn: (key: unknown) => JSON.stringify(key) };

export function createCatalogLoaders(prisma: PrismaClient) {
  const productById = loaderByKey<string, Product>(
    (ids) => prisma.product.findMany({ where: { id: { in: [...ids] } } }),
    (product) => product.id,
  );
  const categoryById = loaderByKey<string, Category>(
    (ids) => prisma.category.findMany({ where: { id: { in: [...ids] } } }),
    (category) => category.id,
  );

  const variantsByProductId = loaderGroupedBy<string, ProductVariant>(
    (productIds) =>
      prisma.productVariant.findMany({
        where: { productId: { in: [...productIds] } },
        orderBy: [{ position: 'asc' }, { id: 'asc' }],
      }),
    (variant) => variant.productId,
  );

  // One statement for the links and their categories; each category also goes into the request's category cache.
  const categoriesByProductId = loaderGroupedBy<string, CategoryOfProduct>(
    async (productIds) => {
      const rows = await prisma.$queryRaw<CategoryOfProduct[]>`
        SELECT pc.product_id AS "productId", c.id, c.name, c.slug, c.description, c.parent_id AS "parentId",
               c.created_at AS "createdAt", c.updated_at AS "updatedAt"
        FROM product_category pc JOIN category c ON c.id = pc.category_id
        WHERE pc.product_id = ANY(${[...productIds]}::uuid[])
        ORDER BY c.name, c.id`;
      for (const { productId: _, ...category } of rows) categoryById.prime(category.id, category);
      return rows;
    },
    (category) => category.productId,
  );

  // Pages that differ only in scope or in the columns they read share one statement, which fetches what each of them
  // reads. Its rows hold only those columns: they answer the pages' own fields and go into no other loader's cache
  // (see ProductPageRow), so a product or variant loaded by ID elsewhere in the operation is always whole.
  const productPages = new DataLoader<ProductPageKey, ProductPageRow[], string>(
    batchByScope(
      async (scopeIds, group) => {
        const { criteria, order, window } = group[0]!;
        const columns = group.map((key) => key.columns).reduce(mergeColumns);
        const rows = await findProductPages(prisma, scopeIds, criteria, order, window, columns);
        return (scopeId) => rows.filter((row) => row.scopeId === scopeId);
      },
      ({ scopeId: _, columns: __, ...shared }) => shared,
    ),
    byJson,
  );

  const productCounts = new DataLoader<ProductCountKey, number, string>(
    batchByScope(async (scopeIds, group) => {
      const counts = await countProducts(prisma, scopeIds, group[0]!.criteria);
      return (scopeId) => counts.get(scopeId) ?? 0;
    }),
    byJson,
  );

  return {
    productById,
    productBySlug: loaderByKey<string, Product>(
      (slugs) => prisma.product.findMany({ where: { slug: { in: [...slugs] } } }),
      (product) => product.slug,
    ),
    variantById: loaderByKey<string, ProductVariant>(
      (ids) => prisma.productVariant.findMany({ where: { id: { in: [...ids] } } }),
      (variant) => variant.id,
    ),
    variantsByProductId,
    categoryById,
    categoryBySlug: loaderByKey<string, Category>(
      (slugs) => prisma.category.findMany({ where: { slug: { in: [...slugs] } } }),
      (category) => category.slug,
    ),
    categoriesByProductId,
    childrenByCategoryId: loaderGroupedBy<string, Category>(
      (parentIds) =>
        prisma.category.findMany({
          where: { parentId: { in: [...parentIds] } },
          orderBy: [{ name: 'asc' }, { id: 'asc' }],
        }),
      (category) => category.parentId!,
    ),
    productPages,
    productCounts,
  };
}

export type CatalogLoaders = ReturnType<typeof createCatalogLoaders>;
