// The executable schema: SDL from schema/, resolvers from the modules, and the shield on every field.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFilesSync } from '@graphql-tools/load-files';
import { mergeTypeDefs } from '@graphql-tools/merge';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import type { Resolvers } from '../generated/graphql.js';
import { accountResolvers } from '../modules/account/resolvers.js';
import { recordMutationFields } from '../modules/audit/plugin.js';
import { auditResolvers } from '../modules/audit/resolvers.js';
import { cartResolvers } from '../modules/cart/resolvers.js';
import { catalogResolvers } from '../modules/catalog/resolvers.js';
import { inventoryResolvers } from '../modules/inventory/resolvers.js';
import { nodeResolvers } from '../modules/node/resolvers.js';
import { orderResolvers } from '../modules/order/resolvers.js';
import { paymentResolvers } from '../modules/payment/resolvers.js';
import { connectionResolvers } from './connection.js';
import { permissions, resolverError, ruleTree } from './permissions.js';
import { stopWhenLate } from './protection/executionTimeout.js';
import { publicFieldResolvers } from './publicFields.js';
import { scalarResolvers } from './scalars.js';

const schemaDir = fileURLToPath(new URL('../../schema', import.meta.url));

export const typeDefs = mergeTypeDefs(loadFilesSync(path.join(schemaDir, '*.graphql')));

export const resolvers: Resolvers[] = [
  scalarResolvers,
  connectionResolvers,
  nodeResolvers,
  catalogResolvers,
  accountResolvers,
  inventoryResolvers,
  cartResolvers,
  orderResolvers,
  paymentResolvers,
  auditResolvers,
];

/** The schema without authorization, for tests that inspect it. */
export const createBareSchema = (): GraphQLSchema => makeExecutableSchema({ typeDefs, resolvers });

export function createSchema(): GraphQLSchema {
  const bare = createBareSchema();
  const shielded = publicFieldResolvers(bare, ruleTree, resolverError)(applyMiddleware(bare, permissions));
  return stopWhenLate(recordMutationFields(shielded));
}
