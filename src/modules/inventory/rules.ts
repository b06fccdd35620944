// Stock is staff business: levels, the ledger and every change.
import { isPublic, isStaff } from '../../auth/rules.js';
import type { RuleTree } from '../../graphql/permissions.js';

export const inventoryRules: RuleTree = {
  Query: { lowStockVariants: isStaff },
  Mutation: { inventoryAdjust: isStaff, inventorySet: isStaff },
  ProductVariant: { inventory: isStaff, inventoryHistory: isStaff },
  InventoryLevel: { onHand: isStaff, reserved: isStaff, available: isStaff },
  InventoryChange: {
    reason: isStaff,
    before: isStaff,
    after: isStaff,
    delta: isStaff,
    createdAt: isStaff,
    changedBy: isStaff,
  },
  ProductVariantConnection: { edges: isStaff, nodes: isStaff, pageInfo: isStaff, totalCount: isStaff },
  ProductVariantEdge: { cursor: isStaff, node: isStaff },
  InventoryChangeConnection: { edges: isStaff, nodes: isStaff, pageInfo: isStaff, totalCount: isStaff },
  InventoryChangeEdge: { cursor: isStaff, node: isStaff },
  // Payloads: whoever could run the mutation may read its result.
  InventoryAdjustPayload: { productVariant: isPublic, userErrors: isPublic },
  InventorySetPayload: { productVariant: isPublic, userErrors: isPublic },
};
