// Order changes for subscribers: published by the outbox relay once the change has committed, delivered to every
// subscriber of the order on this instance, and through Redis pub/sub to every other instance when Redis is
// configured. A change carries only the order's ID: subscribers read the order as it is now.
import { EventEmitter, on } from 'node:events';
import type { Redis } from '../../redis.js';

export interface OrderStatusChange {
  orderId: string;
}

const ANY_ORDER = Symbol('any order');

export class OrderStatusBus {
  private readonly local = new EventEmitter().setMaxListeners(0);
  private subscriber: Redis | null = null;

  constructor(
    private readonly redis: Redis | null,
    private readonly channel: string,
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

  /** Rejects when Redis could not take it (the relay then tries again). */
  async publish(orderId: string): Promise<void> {
    const change: OrderStatusChange = { orderId };
    if (!this.redis) return this.emitLocally(change);
    await this.redis.publish(this.channel, JSON.stringify(change));
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
