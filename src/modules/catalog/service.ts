// Catalog changes: validation, uniqueness and tree rules, each write in one transaction.
import type { z } from 'zod';
import {
  type Prisma,
  type Category,
  type PrismaClient,
  type Product,
  type ProductVariant,
} from '../../generated/prisma/client.js';
import type { Connection } from '../../graphql/connection.js';
import { categoryConnection, type CategoryListArgs } from './listing.js';
import {
  databaseErrorOf,
  fail,
  fromZodIssues,
  isUniqueViolation,
  succeed,
  userError,
  type Outcome,
} from '../userErrors.js';
import {
  categoryChanges,
  categoryFields,
  MAX_VARIANTS_PER_PRODUCT,
  productChanges,
  productFields,
  slugFrom,
  variantChanges,
  variantFields,
  variantTitle,
} from './validation.js';

// IDs here are database IDs (see databaseIdOrUnknown): an ID that names nothing is simply not found.
export type ProductCreate = z.input<ReturnType<typeof productFields>>;
export type ProductUpdate = z.input<typeof productChanges>;
export type VariantCreate = z.input<ReturnType<typeof variantFields>>;
export type VariantUpdate = z.input<ReturnType<typeof variantChanges>>;
export type CategoryCreate = z.input<typeof categoryFields>;
export type CategoryUpdate = z.input<typeof categoryChanges>;

const noSlugFrom = (source: string) =>
  fail(userError(['slug'], 'BLANK', `Give a slug: the ${source} has no letters or digits to make one from.`));

const notFound = (field: string[], what: string) => fail(userError(field, 'NOT_FOUND', `No ${what} with this ID.`));

/** A unique violation on one of `fields` (column -> input path) as a TAKEN user error; anything else is rethrown. */
function taken(error: unknown, fields: Record<string, string[]>): Outcome<never> {
  const field = Object.entries(fields).find(([column]) => isUniqueViolation(error, column));
  if (!field) throw error;
  return fail(userError(field[1], 'TAKEN', `This ${field[0]} is already in use.`));
}

/** A new variant's columns; starting stock is recorded in the inventory ledger as made by `actorId`. */
const variantData = (actorId: string) => (fields: z.output<ReturnType<typeof variantFields>>, position: number) => ({
  sku: fields.sku,
  title: fields.title ?? variantTitle(fields.selectedOptions),
  priceAmount: fields.price,
  compareAtAmount: fields.compareAtPrice ?? null,
  selectedOptions: fields.selectedOptions ?? [],
  stockOnHand: fields.inventoryQuantity ?? 0,
  position,
  ...(fields.inventoryQuantity && {
    inventoryChanges: {
      create: { accountId: actorId, reason: 'initial stock', before: 0, after: fields.inventoryQuantity },
    },
  }),
});

export class CatalogService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly currency: string,
  ) {}

  listCategories(args: CategoryListArgs): Promise<Connection<Category>> {
    return categoryConnection(this.prisma, args);
  }

  async createProduct(input: ProductCreate, actorId: string): Promise<Outcome<Product>> {
    const parsed = productFields(this.currency).safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const { title, slug = slugFrom(title), description, categoryIds, variants = [] } = parsed.data;
    if (!slug) return noSlugFrom('title');
    const missing = await this.missingCategory(input.categoryIds);
    if (missing) return missing;
    try {
      const product = await this.prisma.product.create({
        data: {
          title,
          slug,
          description,
          categories: { create: (categoryIds ?? []).map((categoryId) => ({ categoryId })) },
          variants: { create: variants.map(variantData(actorId)) },
        },
      });
      return succeed(product);
    } catch (error) {
      return taken(error, { slug: ['slug'], sku: ['variants'] });
    }
  }

  async updateProduct(id: string, input: ProductUpdate): Promise<Outcome<Product>> {
    const parsed = productChanges.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    if (!(await this.prisma.product.findUnique({ where: { id }, select: { id: true } }))) {
      return notFound(['id'], 'product');
    }
    const missing = await this.missingCategory(input.categoryIds);
    if (missing) return missing;
    const { categoryIds, ...fields } = parsed.data;
    try {
      const product = await this.prisma.product.update({
        where: { id },
        data: {
          ...fields,
          ...(categoryIds && {
            categories: { deleteMany: {}, create: categoryIds.map((categoryId) => ({ categoryId })) },
          }),
        },
      });
      return succeed(product);
    } catch (error) {
      return taken(error, { slug: ['slug'] });
    }
  }

  async deleteProduct(id: string): Promise<Outcome<string>> {
    const { count } = await this.prisma.product.deleteMany({ where: { id } });
    return count ? succeed(id) : notFound(['id'], 'product');
  }

  async createVariant(productId: string, input: VariantCreate, actorId: string): Promise<Outcome<ProductVariant>> {
    const parsed = variantFields(this.currency).safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const product = await this.prisma.product.findUnique({
      where: { id: productId },
      select: { id: true, _count: { select: { variants: true } } },
    });
    if (!product) return notFound(['productId'], 'product');
    if (product._count.variants >= MAX_VARIANTS_PER_PRODUCT) {
      return fail(userError(['productId'], 'CONFLICT', `A product has at most ${MAX_VARIANTS_PER_PRODUCT} variants.`));
    }
    try {
      const variant = await this.prisma.productVariant.create({
        data: { productId: product.id, ...variantData(actorId)(parsed.data, product._count.variants) },
      });
      return succeed(variant);
    } catch (error) {
      return taken(error, { sku: ['sku'] });
    }
  }

  async updateVariant(id: string, input: VariantUpdate): Promise<Outcome<ProductVariant>> {
    const parsed = variantChanges(this.currency).safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const { sku, title, price, compareAtPrice, selectedOptions } = parsed.data;
    try {
      const variant = await this.prisma.productVariant.update({
        where: { id },
        data: { sku, title, priceAmount: price, compareAtAmount: compareAtPrice, selectedOptions },
      });
      return succeed(variant);
    } catch (error) {
      if (databaseErrorOf(error) === 'not_found') {
        return notFound(['id'], 'variant');
      }
      return taken(error, { sku: ['sku'] });
    }
  }

  async deleteVariant(id: string): Promise<Outcome<string>> {
    const { count } = await this.prisma.productVariant.deleteMany({ where: { id } });
    return count ? succeed(id) : notFound(['id'], 'variant');
  }

  async createCategory(input: CategoryCreate): Promise<Outcome<Category>> {
    const parsed = categoryFields.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const { name, slug = slugFrom(name), description, parentId } = parsed.data;
    if (!slug) return noSlugFrom('name');
    if (parentId && !(await this.categoryExists(parentId))) {
      return notFound(['parentId'], 'category');
    }
    try {
      return succeed(await this.prisma.category.create({ data: { name, slug, description, parentId } }));
    } catch (error) {
      return taken(error, { slug: ['slug'] });
    }
  }

  async updateCategory(id: string, input: CategoryUpdate): Promise<Outcome<Category>> {
    const parsed = categoryChanges.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    if (!(await this.categoryExists(id))) return notFound(['id'], 'category');
    const { parentId } = input;
    if (parentId !== undefined && parentId !== null && !(await this.categoryExists(parentId))) {
      return notFound(['parentId'], 'category');
    }
    const { name, slug, description } = parsed.data;
    try {
      // Moves are serialized by an advisory lock so that two concurrent moves cannot close a cycle.
      const category = await this.prisma.$transaction(async (tx) => {
        if (parentId) {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('category_tree'))`;
          if (await this.isAncestorOrSelf(tx, id, parentId)) return null;
        }
        return tx.category.update({ where: { id }, data: { name, slug, description, parentId } });
      });
      return category
        ? succeed(category)
        : fail(userError(['parentId'], 'INVALID', 'A category cannot move under itself or its descendants.'));
    } catch (error) {
      return taken(error, { slug: ['slug'] });
    }
  }

  async deleteCategory(id: string): Promise<Outcome<string>> {
    if (!(await this.categoryExists(id))) return notFound(['id'], 'category');
    if (await this.prisma.category.findFirst({ where: { parentId: id }, select: { id: true } })) {
      return fail(userError(['id'], 'CONFLICT', 'Delete or move the categories under this one first.'));
    }
    try {
      await this.prisma.category.delete({ where: { id } });
      return succeed(id);
    } catch (error) {
      // a child added meanwhile: the foreign key refuses the delete
      if (databaseErrorOf(error) === 'foreign_key') {
        return fail(userError(['id'], 'CONFLICT', 'Delete or move the categories under this one first.'));
      }
      throw error;
    }
  }

  private async categoryExists(id: string): Promise<boolean> {
    return Boolean(id && (await this.prisma.category.findUnique({ where: { id }, select: { id: true } })));
  }

  private async missingCategory(ids: string[] | null | undefined): Promise<Outcome<never> | null> {
    if (!ids?.length) return null;
    const known = ids.filter((id): id is string => id !== null);
    const found = new Set(
      (await this.prisma.category.findMany({ where: { id: { in: known } }, select: { id: true } })).map((c) => c.id),
    );
    const index = ids.findIndex((id) => !id || !found.has(id));
    return index === -1 ? null : notFound(['categoryIds', String(index)], 'category');
  }

  /** Whether `ancestorId` is `id` itself or sits above it in the tree. */
  private async isAncestorOrSelf(tx: Prisma.TransactionClient, ancestorId: string, id: string): Promise<boolean> {
    const rows = await tx.$queryRaw<unknown[]>`WITH RECURSIVE up (id, parent_id) AS (
        SELECT id, parent_id FROM category WHERE id = ${id}::uuid
        UNION
        SELECT c.id, c.parent_id FROM category c JOIN up ON c.id = up.parent_id
      ) SELECT 1 FROM up WHERE id = ${ancestorId}::uuid`;
    return rows.length > 0;
  }
}
