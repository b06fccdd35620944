import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPrismaClient, poolOf, type PrismaClient } from './client.js';

// Nothing here connects: the pool's events are played by hand (tests/databaseFaults.test.ts has the real thing).
describe('createPrismaClient: failed connections', () => {
  let prisma: PrismaClient | undefined;
  afterEach(async () => {
    await prisma?.$disconnect();
    prisma = undefined;
  });

  const terminated = () =>
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it('never leaves a connection error unheard, whether the client is idle, in use or between the two', () => {
    const onConnectionError = vi.fn();
    prisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/none', 2, undefined, onConnectionError);
    const pool = poolOf(prisma);
    const client = new EventEmitter() as unknown as pg.PoolClient;
    pool.emit('connect', client); // what the pool emits for every connection it opens

    // Checked out (pg's pool has stopped listening, Prisma's adapter has not started): an unheard 'error' would throw.
    const inUse = terminated();
    expect(() => client.emit('error', inUse)).not.toThrow();
    // Idle: pg's pool repeats its client's error on itself, which is heard once.
    const idle = terminated();
    expect(() => client.emit('error', idle)).not.toThrow();
    expect(() => pool.emit('error', idle, client)).not.toThrow();
    expect(onConnectionError.mock.calls).toEqual([[inUse], [idle]]);
  });

  it('needs no callback to stay up', () => {
    prisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/none', 1);
    const pool = poolOf(prisma);
    const client = new EventEmitter() as unknown as pg.PoolClient;
    pool.emit('connect', client);
    expect(() => client.emit('error', terminated())).not.toThrow();
    expect(() => pool.emit('error', terminated(), client)).not.toThrow();
  });
});
