// Order changes for subscribers: published by the outbox relay once the change has committed, delivered to every
// subscriber of the order on this instance, and through Redis pub/sub to every other instance when Redis is
// configured. A change carries only the order's ID: subscribers read the order as it is now. Redis pub/sub keeps
// nothing for a connection that is away, so when this instance's subscription comes back after Redis or the
// connection blinked, every order followed here is pushed once, read afresh: nothing published meanwhile is missed.
import { EventEmitter, on } from 'node:events';
import type { Redis } from '../../redis.js';

export interface OrderStatusChange {
  orderId: string;
}

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
    // Named, so CLIENT LIST shows whose it is (Redis refuses names with spaces).
    this.subscriber = this.redis.duplicate({ connectionName: `${this.channel}:subscriber`.replace(/[^\w:.-]/g, '_') });
    await this.subscriber.connect();
    this.subscriber.on('message', (_channel: string, message: string) =>
      this.emitLocally(JSON.parse(message) as OrderStatusChange),
    );
    // Connection errors show where they matter (the relay's publishes fail and are retried); ioredis reconnects.
    this.subscriber.on('error', () => {});
    await this.subscriber.subscribe(this.channel);
    // 'ready' again means a reconnect, with the channel subscribed again (ioredis' autoResubscribe).
    this.subscriber.on('ready', () => this.resync());
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
  }

  /** Pushes every order followed on this instance once. */
  private resync() {
    // events.on() listens for 'error' too, to end its iterators: that name is no order.
    for (const orderId of this.local.eventNames()) {
      if (typeof orderId === 'string' && orderId !== 'error') this.emitLocally({ orderId });
    }
  }
}
