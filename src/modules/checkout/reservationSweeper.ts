// Returns the stock of unpaid orders whose reservation ran out, on a timer. Each order is cancelled through the
// state machine, whose row lock makes a sweep racing a late payment confirmation safe.
import type { Logger } from '../../logger.js';
import type { OrderService } from '../order/service.js';

export function startReservationSweeper(orders: OrderService, logger: Logger, intervalMs: number) {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= orders
      .expireReservations()
      .then((count) => count && logger.info({ count }, 'released expired stock reservations'))
      .catch((error: unknown) => logger.error({ err: error }, 'reservation sweep failed'))
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
