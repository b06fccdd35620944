import { Redis } from 'ioredis';
import type { Config } from './config.js';

/** A connected client for REDIS_URL, or null when Redis is not configured. */
export async function connectRedis(config: Pick<Config, 'REDIS_URL'>): Promise<Redis | null> {
  if (!config.REDIS_URL) return null;
  // No offline queue: when Redis is away, callers fail fast and fall back instead of waiting.
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

export type { Redis };
