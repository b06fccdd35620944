// The types `node(id:)` can fetch, each with the loader that fetches it.
import type { Category, Product, ProductVariant } from '../../generated/prisma/client.js';
import type { Context } from '../../graphql/context.js';

export type NodeModel = Product | ProductVariant | Category;
type NodeLoader = (ctx: Context, id: string) => Promise<NodeModel | null>;

export const nodeLoaders = new Map<string, NodeLoader>([
  ['Product', (ctx, id) => ctx.loaders.productById.load(id)],
  ['ProductVariant', (ctx, id) => ctx.loaders.variantById.load(id)],
  ['Category', (ctx, id) => ctx.loaders.categoryById.load(id)],
]);
