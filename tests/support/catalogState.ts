import type { PrismaClient } from '../../src/db/client.js';

/** Every catalog row, in a stable order: equal before and after means nothing was written. */
export async function catalogState(prisma: PrismaClient) {
  return {
    products: await prisma.product.findMany({ orderBy: { id: 'asc' } }),
    variants: await prisma.productVariant.findMany({ orderBy: { id: 'asc' } }),
    categories: await prisma.category.findMany({ orderBy: { id: 'asc' } }),
    links: await prisma.productCategory.findMany({ orderBy: [{ productId: 'asc' }, { categoryId: 'asc' }] }),
  };
}
