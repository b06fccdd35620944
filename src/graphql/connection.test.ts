import { describe, expect, it } from 'vitest';
import { encodeCursor, pageWindow, toConnection } from './connection.js';

const asNumber = (raw: unknown) => (typeof raw === 'number' ? raw : null);
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code;
  }
  return undefined;
};

describe('pageWindow', () => {
  it('reads 20 forward by default', () => {
    expect(pageWindow({}, asNumber)).toEqual({ backward: false, limit: 20, cursor: null });
  });

  it('decodes cursors and reads backward with last/before', () => {
    expect(pageWindow({ last: 5, before: encodeCursor(7) }, asNumber)).toEqual({ backward: true, limit: 5, cursor: 7 });
  });

  it.each([
    [{ first: 101 }],
    [{ last: 101 }],
    [{ first: -1 }],
    [{ first: 1, last: 1 }],
    [{ after: encodeCursor(1), before: encodeCursor(2) }],
    [{ first: 1, before: encodeCursor(2) }],
    [{ after: 'not a cursor' }],
    [{ after: encodeCursor('a string where a number belongs') }],
  ])('rejects %j as BAD_USER_INPUT', (args) => {
    expect(codeOf(() => pageWindow(args, asNumber))).toBe('BAD_USER_INPUT');
  });
});

describe('toConnection', () => {
  const count = () => Promise.resolve(9);

  it('knows a next page from the extra row read forward', () => {
    const page = toConnection([1, 2, 3], { backward: false, limit: 2, cursor: null }, (n) => n, count);
    expect(page.nodes).toEqual([1, 2]);
    expect(page.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: encodeCursor(1),
      endCursor: encodeCursor(2),
    });
  });

  it('puts rows read backward back in order', () => {
    const page = toConnection([5, 4, 3], { backward: true, limit: 2, cursor: 6 }, (n) => n, count);
    expect(page.nodes).toEqual([4, 5]);
    expect(page.pageInfo.hasPreviousPage).toBe(true);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it('has null cursors on an empty page', () => {
    const page = toConnection([], { backward: false, limit: 2, cursor: null }, (n) => n, count);
    expect(page.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});
