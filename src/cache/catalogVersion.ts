// A number that changes whenever staff change the catalog. It is part of every shared response cache key, so one
// increment makes every cached catalog response unreachable on every instance at once, with no race against a
// request still writing what it read before the change.
import type { Redis } from '../redis.js';

export interface CatalogVersion {
  /** The current version, or null when it cannot be read (then nothing may be served from or put in the cache). */
  current(): Promise<string | null>;
  bump(): Promise<void>;
}

export function memoryCatalogVersion(): CatalogVersion {
  let version = 0;
  return {
    current: () => Promise.resolve(String(version)),
    bump() {
      version += 1;
      return Promise.resolve();
    },
  };
}

export function redisCatalogVersion(redis: Redis, key: string): CatalogVersion {
  return {
    async current() {
      try {
        return (await redis.get(key)) ?? '0';
      } catch {
        return null;
      }
    },
    async bump() {
      await redis.incr(key);
    },
  };
}
