import { isPublic, isStaff } from '../../auth/rules.js';
import type { RuleTree } from '../../graphql/permissions.js';

export const paymentRules: RuleTree = {
  Mutation: { paymentCapture: isStaff, paymentVoid: isStaff, paymentRefund: isStaff },
  // On an order, whoever may see the order may see where its payment stands.
  Order: { payment: isPublic },
  PaymentSummary: { status: isPublic, amount: isPublic, captured: isPublic, refunded: isPublic },
  PaymentOperationPayload: { order: isPublic, userErrors: isPublic },
};
