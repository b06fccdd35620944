// What other modules may use of carts: the totals arithmetic and the cart holder's rules.
export { applyRate, cartTotals, MAX_ORDER_TOTAL } from './pricing.js';
export { canUseCart, holdsCartInput } from './rules.js';
