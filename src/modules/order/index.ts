// What other modules may use of orders: the state machines, the moves that keep an order coherent, and the service.
export { cancelOrder, notShipped } from './cancellation.js';
export { confirmPayment } from './confirmPayment.js';
export { FULFILLABLE_FINANCIAL, unitsToShip } from './derive.js';
export { isVisible, lockOrder, moveOrder, TransitionRefused, VISIBLE_STATUSES, type Actor } from './stateMachines.js';
export { OrderLookupThrottle } from './lookupThrottle.js';
export { OrderService, type PaymentReversal } from './service.js';
export { paymentOf, syncOrder } from './sync.js';
export { canViewOrder, ownedOrder, ownerOfOrder } from './rules.js';
