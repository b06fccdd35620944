import { describe, expect, it } from 'vitest';
import { cursorPart, encodeCursor, pageWindow, toConnection } from './connection.js';

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
    [{ after: encodeCursor(7).padEnd(5000, 'A') }],
    [{ after: `${encodeCursor(7)}=` }],
    [{ after: Buffer.from(' 7').toString('base64url') }],
    [{ after: Buffer.from('7\u0000').toString('base64url') }],
  ])('rejects %j as BAD_USER_INPUT', (args) => {
    expect(codeOf(() => pageWindow(args, asNumber))).toBe('BAD_USER_INPUT');
  });
});

describe('cursor keys', () => {
  const anyKey = (raw: unknown) => raw;

  it('takes back the longest key the API writes: a 255-character title that JSON escapes', () => {
    const key = ['TITLE', '\u0001'.repeat(255), '00000000-0000-4000-8000-000000000001'];
    expect(pageWindow({ after: encodeCursor(key) }, anyKey).cursor).toEqual(key);
  });

  it('refuses a NUL anywhere in the decoded key, even where the key takes any value', () => {
    for (const key of [['a\u0000'], { 'a\u0000': 1 }, [[['\u0000']]]]) {
      expect(codeOf(() => pageWindow({ after: encodeCursor(key) }, anyKey))).toBe('BAD_USER_INPUT');
    }
  });

  it.each([
    ['uuid', '00000000-0000-4000-8000-000000000001', 'not-a-uuid'],
    ['text', 'Aurora Hoodie', 'Aurora\u0000'],
    ['int', -2_147_483_648, 2_147_483_648],
    ['real', 0.0607927, 1e-300],
    ['real', 1e38, 1e39],
    ['timestamp', '2026-12-07T23:00:00.000Z', '0000-01-01T00:00:00.000Z'],
    ['timestamp', '9999-12-31T23:59:59.999Z', '2026-02-30T00:00:00.000Z'],
  ] as const)('%s accepts %j and refuses %j', (part, good, bad) => {
    expect(cursorPart[part](good)).toBe(true);
    expect(cursorPart[part](bad)).toBe(false);
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
