// node(id:) and nodes(ids:): any object by global ID, through the same loaders as the typed queries, and only when
// the viewer may see it.
import type { Resolvers } from '../../generated/graphql.js';
import type { Context } from '../../graphql/context.js';
import { settleEach } from '../../graphql/compiledExecution.js';
import { badUserInput, forbidden, unauthenticated } from '../../graphql/errors.js';
import { parseGlobalId } from '../../graphql/globalId.js';
import { nodeTypes, type NodeModel } from './registry.js';

const MAX_NODES = 100;
const typeOfNode = new WeakMap<object, string>();

async function loadNode(ctx: Context, globalId: string): Promise<NodeModel | null> {
  const parsed = parseGlobalId(globalId);
  if (!parsed) throw badUserInput(`"${globalId.slice(0, 100)}" is not a valid ID.`);
  const type = nodeTypes.get(parsed.type);
  const node = type && (await type.load(ctx, parsed.id));
  if (!type || !node) return null;
  if (!type.canView(ctx, node)) throw ctx.viewer ? forbidden() : unauthenticated();
  typeOfNode.set(node, parsed.type);
  return node;
}

export const nodeResolvers: Resolvers = {
  Query: {
    node: (_, { id }, ctx) => loadNode(ctx, id),
    // One promise per ID: an ID that fails (malformed, forbidden) is null with an error at its own index.
    nodes: (_, { ids }, ctx) => {
      if (ids.length > MAX_NODES) throw badUserInput(`At most ${MAX_NODES} IDs at once; got ${ids.length}.`, 'ids');
      // Each item fails on its own (FORBIDDEN at its index); the generated types only know lists of models.
      return settleEach(ids.map((id) => loadNode(ctx, id))) as Promise<unknown> as Promise<NodeModel[]>;
    },
  },
  Node: {
    __resolveType: (node) =>
      typeOfNode.get(node) as 'Product' | 'ProductVariant' | 'Category' | 'Account' | 'Address' | 'Cart' | 'Order',
  },
};
