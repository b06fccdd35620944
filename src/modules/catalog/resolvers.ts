// Catalog fields: thin mappings onto loaders (reads) and the catalog service (writes).
import { restrictCachePolicy } from '../../cache/cachePolicy.js';
import { STOCK_MAX_AGE } from '../../cache/responseCache.js';
import type { Resolvers } from '../../generated/graphql.js';
import type { Product, ProductVariant } from '../../generated/prisma/client.js';
import type { Context } from '../../graphql/context.js';
import { badUserInput } from '../../graphql/errors.js';
import { databaseIdOf, databaseIdOrUnknown, requireDatabaseId, toGlobalId } from '../../graphql/globalId.js';
import { money } from '../../money.js';
import type { Outcome } from '../userErrors.js';
import { listedCategories, listedVariants, productConnection } from './listing.js';

/** Exactly one of `id` and `slug`, for `product(...)` and `category(...)`. */
function idOrSlug(args: { id?: string | null; slug?: string | null }, type: string) {
  if ((args.id == null) === (args.slug == null)) throw badUserInput('Pass exactly one of `id` and `slug`.');
  return args.id != null ? { id: databaseIdOf(args.id, type) } : { slug: args.slug! };
}

const payload = <K extends string, T>(key: K, outcome: Outcome<T>) =>
  ({ [key]: outcome.value, userErrors: outcome.userErrors }) as { [P in K]: T | null } & Pick<Outcome<T>, 'userErrors'>;

const deletedPayload = <K extends string>(key: K, type: string, outcome: Outcome<string>) =>
  payload(key, { ...outcome, value: outcome.value && toGlobalId(type, outcome.value) } as Outcome<string>);

const isAvailable = (variant: { stockOnHand: number; stockReserved: number }) =>
  variant.stockOnHand > variant.stockReserved;

type Variants = ProductVariant[];

/** `read` of a product's variants: those its page fetched, at once, else from their loader. */
function withVariants<T>(product: Product, ctx: Context, read: (variants: Variants) => T): T | Promise<T> {
  const listed = listedVariants(product);
  return listed ? read(listed) : ctx.loaders.variantsByProductId.load(product.id).then(read);
}

function priceRange(variants: Variants, currency: string) {
  if (!variants.length) return null;
  let min = variants[0]!.priceAmount;
  let max = min;
  for (const { priceAmount } of variants) {
    if (priceAmount < min) min = priceAmount;
    if (priceAmount > max) max = priceAmount;
  }
  return { minVariantPrice: money(min, currency), maxVariantPrice: money(max, currency) };
}

const anyAvailable = (variants: Variants) => variants.some(isAvailable);

const productId = (id: string) => databaseIdOrUnknown(id, 'Product');
const variantId = (id: string) => databaseIdOrUnknown(id, 'ProductVariant');
const categoryId = (id: string) => databaseIdOrUnknown(id, 'Category');

export const catalogResolvers: Resolvers = {
  Query: {
    products: (_, args, ctx, info) => {
      // Which products a stock filter lets through changes with every sale: as stale as the stock fields, at most.
      if (args.filter?.availableForSale != null) {
        restrictCachePolicy(ctx, { maxAge: STOCK_MAX_AGE });
      }
      const categoryId = args.filter?.categoryId;
      const scopeId = categoryId == null ? null : requireDatabaseId(categoryId, 'Category', 'filter.categoryId');
      return productConnection(ctx.loaders, scopeId, args, ctx.storeCurrency, info);
    },
    product: (_, args, ctx) => {
      const { id, slug } = idOrSlug(args, 'Product');
      if (slug !== undefined) return ctx.loaders.productBySlug.load(slug);
      return id ? ctx.loaders.productById.load(id) : null;
    },
    categories: (_, args, ctx) => ctx.catalog.listCategories(args),
    category: (_, args, ctx) => {
      const { id, slug } = idOrSlug(args, 'Category');
      if (slug !== undefined) return ctx.loaders.categoryBySlug.load(slug);
      return id ? ctx.loaders.categoryById.load(id) : null;
    },
  },

  Mutation: {
    productCreate: async (_, { input }, ctx) =>
      payload(
        'product',
        await ctx.catalog.createProduct(
          { ...input, categoryIds: input.categoryIds?.map(categoryId) },
          ctx.viewer!.accountId,
        ),
      ),
    productUpdate: async (_, { input: { id, ...input } }, ctx) =>
      payload(
        'product',
        await ctx.catalog.updateProduct(productId(id), { ...input, categoryIds: input.categoryIds?.map(categoryId) }),
      ),
    productDelete: async (_, { input }, ctx) =>
      deletedPayload('deletedProductId', 'Product', await ctx.catalog.deleteProduct(productId(input.id))),
    productVariantCreate: async (_, { input: { productId: id, ...input } }, ctx) =>
      payload('productVariant', await ctx.catalog.createVariant(productId(id), input, ctx.viewer!.accountId)),
    productVariantUpdate: async (_, { input: { id, ...input } }, ctx) =>
      payload('productVariant', await ctx.catalog.updateVariant(variantId(id), input)),
    productVariantDelete: async (_, { input }, ctx) =>
      deletedPayload('deletedProductVariantId', 'ProductVariant', await ctx.catalog.deleteVariant(variantId(input.id))),
    categoryCreate: async (_, { input }, ctx) =>
      payload(
        'category',
        await ctx.catalog.createCategory({
          ...input,
          parentId: input.parentId == null ? null : categoryId(input.parentId),
        }),
      ),
    categoryUpdate: async (_, { input: { id, ...input } }, ctx) =>
      payload(
        'category',
        await ctx.catalog.updateCategory(categoryId(id), {
          ...input,
          parentId: input.parentId == null ? input.parentId : categoryId(input.parentId),
        }),
      ),
    categoryDelete: async (_, { input }, ctx) =>
      deletedPayload('deletedCategoryId', 'Category', await ctx.catalog.deleteCategory(categoryId(input.id))),
  },

  // What each field of Product, ProductVariant and Category reads from its object is listed in listing.ts's
  // FIELD_READS, from which a product page fetches only what the selected fields read: change both together. A listed
  // product carries its variants and categories (listedVariants, listedCategories) when its page fetched them.
  Product: {
    id: (product) => toGlobalId('Product', product.id),
    variants: (product, _, ctx) => listedVariants(product) ?? ctx.loaders.variantsByProductId.load(product.id),
    categories: (product, _, ctx) => listedCategories(product) ?? ctx.loaders.categoriesByProductId.load(product.id),
    priceRange: (product, _, ctx) => withVariants(product, ctx, (variants) => priceRange(variants, ctx.storeCurrency)),
    availableForSale: (product, _, ctx) => withVariants(product, ctx, anyAvailable),
  },

  ProductVariant: {
    id: (variant) => toGlobalId('ProductVariant', variant.id),
    price: (variant, _, ctx) => money(variant.priceAmount, ctx.storeCurrency),
    compareAtPrice: (variant, _, ctx) =>
      variant.compareAtAmount === null ? null : money(variant.compareAtAmount, ctx.storeCurrency),
    selectedOptions: (variant) => variant.selectedOptions as { name: string; value: string }[],
    availableForSale: isAvailable,
    product: async (variant, _, ctx) => (await ctx.loaders.productById.load(variant.productId))!,
  },

  Category: {
    id: (category) => toGlobalId('Category', category.id),
    parent: (category, _, ctx) => (category.parentId ? ctx.loaders.categoryById.load(category.parentId) : null),
    children: (category, _, ctx) => ctx.loaders.childrenByCategoryId.load(category.id),
    products: (category, args, ctx, info) => productConnection(ctx.loaders, category.id, args, ctx.storeCurrency, info),
  },
};
