import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { OrderStatusBus } from './statusBus.js';

const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(!REDIS_URL)('the order status bus over Redis', () => {
  const admin = new Redis(REDIS_URL ?? '', { lazyConnect: true });
  afterAll(() => admin.quit());

  it('pushes every followed order once when its subscription comes back after the connection dropped', async () => {
    const channel = `agora-test-${randomUUID()}:order-status`;
    const publisher = new Redis(REDIS_URL!, { lazyConnect: true, enableOfflineQueue: false });
    await publisher.connect();
    const bus = new OrderStatusBus(publisher, channel);
    await bus.start();
    const stop = new AbortController();
    const received: string[] = [];
    const following = (async () => {
      for await (const change of bus.changes('order-1', stop.signal)) received.push(change.orderId);
    })();
    try {
      await bus.publish('order-1');
      await expect.poll(() => received).toEqual(['order-1']);
      // What a Redis restart or a proxy drop does to the subscription: anything published meanwhile is gone.
      const clients = (await admin.client('LIST')) as string;
      const id = /id=(\d+) .*name=(\S+)/
        .exec(clients.split('\n').find((line) => line.includes(`name=${channel}:subscriber`)) ?? '')
        ?.at(1);
      expect(id).toBeDefined();
      await admin.client('KILL', 'ID', id!);
      await expect.poll(() => received, { timeout: 5_000 }).toEqual(['order-1', 'order-1']);
    } finally {
      stop.abort();
      await following;
      await bus.stop();
      await publisher.quit();
    }
  });
});
