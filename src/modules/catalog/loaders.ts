// Per-request batchers for the catalog: every relation field and list resolves through these, so a page of N
// products costs the same few statements whatever N is.
import DataLoader from 'dataloader';
import type { Category, PrismaClient, Product, ProductVariant } from '../../generated/prisma/client.js';
import { loaderByKey, loaderGroupedBy } from '../../db/batch.js';
import {
  countProducts,
  findProductPages,
  type ProductCriteria,
  type PageRelations,
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
  /** Relations the query reads from the page's products, fetched with the page. */
  relations: PageRelations;
}

export type ProductCountKey = Pick<ProductPageKey, 'scopeId' | 'criteria'>;

type CategoryOfProduct = Category & { productId: string };

/** Runs `fetch` once per group of keys that differ only in scope, and hands each key its scope's rows. */
function batchByScope<K extends { scopeId: string | null }, R>(
  fetch: (scopeIds: string[] | null, sample: K) => Promise<(scopeId: string | null) => R>,
) {
  return async (keys: readonly K[]): Promise<R[]> => {
    const groups = new Map<string, K[]>();
    for (const key of keys) {
      const signature = JSON.stringify({ ...key, scopeId: key.scopeId === null });
      groups.set(signature, [...(groups.get(signature) ?? []), key]);
    }
    const results = new Map<K, R>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const first = group[0]!;
        const scopeIds = first.scopeId === null ? null : group.map((key) => key.scopeId!);
        const pick = await fetch(scopeIds, first);
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

  const productPages = new DataLoader<ProductPageKey, ProductPageRow[], string>(
    batchByScope(async (scopeIds, { criteria, order, window, relations }) => {
      const rows = await findProductPages(prisma, scopeIds, criteria, order, window, relations);
      for (const { variants, categories, ...row } of rows) {
        productById.prime(row.id, row);
        if (variants) variantsByProductId.prime(row.id, variants);
        if (categories) {
          categoriesByProductId.prime(
            row.id,
            categories.map((category) => ({ ...category, productId: row.id })),
          );
          for (const category of categories) categoryById.prime(category.id, category);
        }
      }
      return (scopeId) => rows.filter((row) => row.scopeId === scopeId);
    }),
    byJson,
  );

  const productCounts = new DataLoader<ProductCountKey, number, string>(
    batchByScope(async (scopeIds, { criteria }) => {
      const counts = await countProducts(prisma, scopeIds, criteria);
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
