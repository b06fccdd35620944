import { ownerOfWhole } from '../../auth/ownership.js';
import { isPublic, isStaff } from '../../auth/rules.js';
import type { RuleTree } from '../../graphql/permissions.js';
import { ownerOfOrder } from '../order/index.js';

export const paymentRules: RuleTree = {
  Mutation: { paymentCapture: isStaff, paymentVoid: isStaff, paymentRefund: isStaff },
  // On an order, whoever may see the order may see where its payment stands.
  Order: { payment: ownerOfOrder },
  PaymentSummary: { status: ownerOfWhole, amount: ownerOfWhole, captured: ownerOfWhole, refunded: ownerOfWhole },
  PaymentOperationPayload: { order: isPublic, userErrors: isPublic },
};
