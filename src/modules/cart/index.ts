// What other modules may use of carts: the totals arithmetic and the cart holder's rules.
export { applyRate, cartTotals } from './pricing.js';
export { canUseCart, holdsCartInput } from './rules.js';
