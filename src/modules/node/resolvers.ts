// node(id:) and nodes(ids:): any object by global ID, through the same loaders (and so the same rules on its
// fields) as the typed queries.
import type { Resolvers } from '../../generated/graphql.js';
import type { Context } from '../../graphql/context.js';
import { badUserInput } from '../../graphql/errors.js';
import { parseGlobalId } from '../../graphql/globalId.js';
import { nodeLoaders, type NodeModel } from './registry.js';

const MAX_NODES = 100;
const typeOfNode = new WeakMap<object, string>();

async function loadNode(ctx: Context, globalId: string): Promise<NodeModel | null> {
  const parsed = parseGlobalId(globalId);
  if (!parsed) throw badUserInput(`"${globalId.slice(0, 100)}" is not a valid ID.`);
  const node = await nodeLoaders.get(parsed.type)?.(ctx, parsed.id);
  if (node) typeOfNode.set(node, parsed.type);
  return node ?? null;
}

export const nodeResolvers: Resolvers = {
  Query: {
    node: (_, { id }, ctx) => loadNode(ctx, id),
    nodes: (_, { ids }, ctx) => {
      if (ids.length > MAX_NODES) throw badUserInput(`At most ${MAX_NODES} IDs at once; got ${ids.length}.`, 'ids');
      return Promise.all(ids.map((id) => loadNode(ctx, id)));
    },
  },
  Node: {
    __resolveType: (node) => typeOfNode.get(node) as 'Product' | 'ProductVariant' | 'Category',
  },
};
