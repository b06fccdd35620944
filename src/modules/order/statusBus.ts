// Order status changes for subscribers: published after the change commits, delivered to every subscriber of the
// order on this instance, and through Redis pub/sub to every other instance when Redis is configured.
import { EventEmitter, on } from 'node:events';
import type { Order } from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import type { Redis } from '../../redis.js';

export interface OrderStatusChange {
  orderId: string;
  status: Order['status'];
}

const ANY_ORDER = Symbol('any order');

export class OrderStatusBus {
  private readonly local = new EventEmitter().setMaxListeners(0);
  private subscriber: Redis | null = null;

  constructor(
    private readonly redis: Redis | null,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  /** Starts relaying other instances' changes (with Redis); a no-op without it. */
  async start(): Promise<void> {
    if (!this.redis) return;
    this.subscriber = this.redis.duplicate();
    await this.subscriber.connect();
    this.subscriber.on('message', (_channel: string, message: string) =>
      this.emitLocally(JSON.parse(message) as OrderStatusChange),
    );
    await this.subscriber.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    await this.subscriber?.quit();
  }

  /** Call only after the transaction that changed the order has committed. */
  publish(order: Pick<Order, 'id' | 'status'>): void {
    const change: OrderStatusChange = { orderId: order.id, status: order.status };
    if (!this.redis) return this.emitLocally(change);
    this.redis.publish(this.channel, JSON.stringify(change)).catch((error: unknown) => {
      this.logger.error({ err: error }, 'publishing an order status change failed');
    });
  }

  /** Every change of every order, on this instance (including those relayed from others). */
  onChange(listener: (change: OrderStatusChange) => void): void {
    this.local.on(ANY_ORDER, listener);
  }

  /** The order's changes from now on, until `signal` aborts. */
  async *changes(orderId: string, signal: AbortSignal): AsyncGenerator<OrderStatusChange> {
    try {
      for await (const [change] of on(this.local, orderId, { signal })) yield change as OrderStatusChange;
    } catch (error) {
      if ((error as { name?: string }).name !== 'AbortError') throw error;
    }
  }

  private emitLocally(change: OrderStatusChange) {
    this.local.emit(change.orderId, change);
    this.local.emit(ANY_ORDER, change);
  }
}
