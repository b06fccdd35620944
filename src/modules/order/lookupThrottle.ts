// orderByNumber answers whether a number and an email belong together, so it is an oracle for guesses: each client
// address has a budget in which a miss costs MISS_COST lookups, and each order number takes only so many misses,
// whoever sends them. Points are taken before the lookup (atomic increments), and a hit gives back what a hit does
// not cost.
import { Throttle, throttled } from '../../auth/throttle.js';
import type { Config } from '../../config.js';
import type { Redis } from '../../redis.js';

export const MISS_COST = 10;

export class OrderLookupThrottle {
  private readonly perAddress: Throttle;
  private readonly perOrder: Throttle;

  constructor(
    redis: Redis | null,
    config: Pick<Config, 'REDIS_KEY_PREFIX' | 'ORDER_LOOKUP_LIMIT_PER_ADDRESS' | 'ORDER_LOOKUP_LIMIT_PER_ORDER'>,
  ) {
    const prefix = `${config.REDIS_KEY_PREFIX}order-lookup`;
    this.perAddress = new Throttle(redis, `${prefix}:address`, config.ORDER_LOOKUP_LIMIT_PER_ADDRESS);
    this.perOrder = new Throttle(redis, `${prefix}:order`, config.ORDER_LOOKUP_LIMIT_PER_ORDER);
  }

  /** Runs `lookup` (true when it found the order) within both budgets; THROTTLED when either is spent. */
  async guard<T>(number: number, clientAddress: string, lookup: () => Promise<T | null>): Promise<T | null> {
    const order = String(number);
    const addressWait = await this.perAddress.take(clientAddress, MISS_COST);
    if (addressWait) throw throttled('too many order lookups from this address.', addressWait);
    const orderWait = await this.perOrder.take(order);
    if (orderWait) {
      await this.perAddress.giveBack(clientAddress, MISS_COST);
      throw throttled('too many wrong guesses for this order.', orderWait);
    }
    const found = await lookup();
    if (found)
      await Promise.all([this.perAddress.giveBack(clientAddress, MISS_COST - 1), this.perOrder.giveBack(order, 1)]);
    return found;
  }
}
