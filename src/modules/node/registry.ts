// The types `node(id:)` can fetch: the loader that fetches each, and who may see it (the same check as the type's
// field rules, so fetching by ID is never a way around them).
import type {
  Account,
  Address,
  Cart,
  Category,
  Order,
  Product,
  ProductVariant,
} from '../../generated/prisma/client.js';
import type { Context } from '../../graphql/context.js';
import { canViewAccount, canViewAddress } from '../account/index.js';
import { canUseCart } from '../cart/index.js';
import { canViewOrder } from '../order/index.js';

export type NodeModel = Product | ProductVariant | Category | Account | Address | Cart | Order;

interface NodeType<T extends NodeModel> {
  load(ctx: Context, id: string): Promise<T | null>;
  canView(ctx: Context, node: T): boolean;
}

const everyone = () => true;
const nodeType = <T extends NodeModel>(type: NodeType<T>) => type as unknown as NodeType<NodeModel>;

export const nodeTypes = new Map<string, NodeType<NodeModel>>([
  ['Product', nodeType<Product>({ load: (ctx, id) => ctx.loaders.productById.load(id), canView: everyone })],
  [
    'ProductVariant',
    nodeType<ProductVariant>({ load: (ctx, id) => ctx.loaders.variantById.load(id), canView: everyone }),
  ],
  ['Category', nodeType<Category>({ load: (ctx, id) => ctx.loaders.categoryById.load(id), canView: everyone })],
  ['Account', nodeType<Account>({ load: (ctx, id) => ctx.loaders.accountById.load(id), canView: canViewAccount })],
  ['Address', nodeType<Address>({ load: (ctx, id) => ctx.loaders.addressById.load(id), canView: canViewAddress })],
  ['Cart', nodeType<Cart>({ load: (ctx, id) => ctx.loaders.cartById.load(id), canView: canUseCart })],
  ['Order', nodeType<Order>({ load: (ctx, id) => ctx.loaders.orderById.load(id), canView: canViewOrder })],
]);
