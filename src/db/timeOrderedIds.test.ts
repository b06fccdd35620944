import { describe, expect, it } from 'vitest';
import { firstIdAt, idsCreatedBetween } from './timeOrderedIds.js';

/** A UUIDv7 of the millisecond `ms` (lowercase UUIDs compare as strings the way PostgreSQL compares them). */
const idAt = (ms: number, rest = '7abc-8def-0123456789ab') => {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-${rest}`;
};

describe('firstIdAt', () => {
  it('is at or below every UUIDv7 of its millisecond and above every one of the millisecond before', () => {
    const t = Date.parse('2026-11-21T12:00:00Z');
    expect(firstIdAt(t) <= idAt(t, '7000-8000-000000000000')).toBe(true);
    expect(firstIdAt(t) > idAt(t - 1, '7fff-bfff-ffffffffffff')).toBe(true);
  });

  it('stays a UUID for times a UUIDv7 cannot hold', () => {
    expect(firstIdAt(-5)).toBe('00000000-0000-0000-0000-000000000000');
    expect(firstIdAt(8.64e15)).toBe('ffffffff-ffff-0000-0000-000000000000');
  });
});

describe('idsCreatedBetween', () => {
  const since = new Date('2026-01-01T00:00:00Z');
  const until = new Date('2026-02-01T00:00:00Z');
  const range = idsCreatedBetween(since, until);
  const inside = (id: string) => id >= range.gte! && id < range.lt!;

  it('holds rows whose ID was made a minute away from their created_at', () => {
    expect(inside(idAt(since.getTime() - 60_000))).toBe(true);
    expect(inside(idAt(until.getTime() + 59_000))).toBe(true);
  });

  it('leaves out IDs made an hour outside the dates', () => {
    expect(inside(idAt(since.getTime() - 3_600_000))).toBe(false);
    expect(inside(idAt(until.getTime() + 3_600_000))).toBe(false);
  });

  it('bounds only the sides given', () => {
    expect(idsCreatedBetween(null, undefined)).toEqual({});
    expect(Object.keys(idsCreatedBetween(since, null))).toEqual(['gte']);
    expect(Object.keys(idsCreatedBetween(undefined, until))).toEqual(['lt']);
  });
});
