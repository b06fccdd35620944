// Relay cursor connections over keyset pagination: a page is read in "scan order" from the cursor's key, one row
// more than asked for to learn whether another page follows.
import type { Resolvers } from '../generated/graphql.js';
import { badUserInput } from './errors.js';
import { UUID } from './globalId.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Which rows to read: `limit` rows after `cursor`, walking the sort order forwards or backwards. */
export interface PageWindow<Key> {
  backward: boolean;
  limit: number;
  cursor: Key | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** Resolved only when a client asks for it: counting is a query of its own. */
  totalCount: () => Promise<number>;
}

export const encodeCursor = (key: unknown): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/** Longer than any cursor this API hands out: the longest holds a 255-character title of control characters, each
 * escaped in six bytes of JSON, about 2,100 characters of base64. */
const MAX_CURSOR_LENGTH = 4096;
const INT4_MAX = 2_147_483_647;
/** The smallest and largest magnitudes a PostgreSQL `real` holds without underflow or overflow. */
const REAL_MIN = 1.2e-38;
const REAL_MAX = 3.4e38;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Checks for the parts of a decoded cursor key: the shapes the database can take as they are. */
export const cursorPart = {
  uuid: (value: unknown): value is string => typeof value === 'string' && UUID.test(value),
  /** Text PostgreSQL can hold: no NUL. */
  text: (value: unknown): value is string => typeof value === 'string' && !value.includes('\0'),
  /** An int4, what a count or quantity column sorts by. */
  int: (value: unknown): value is number =>
    Number.isSafeInteger(value) && (value as number) >= -INT4_MAX - 1 && (value as number) <= INT4_MAX,
  /** A float that fits a `real` (ts_rank's type). */
  real: (value: unknown): value is number =>
    typeof value === 'number' && (value === 0 || (Math.abs(value) >= REAL_MIN && Math.abs(value) <= REAL_MAX)),
  /** A timestamp as toISOString writes it, in years 1 to 9999. */
  timestamp: (value: unknown): value is string =>
    typeof value === 'string' &&
    ISO_TIMESTAMP.test(value) &&
    !value.startsWith('0000') &&
    !Number.isNaN(Date.parse(value)) &&
    new Date(value).toISOString() === value,
};

/** A cursor is exactly what encodeCursor wrote: canonical base64url of compact JSON, with no NUL anywhere. */
function cursorKey(cursor: string): unknown {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const raw: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return encodeCursor(raw) === cursor && !holdsNul(raw) ? raw : undefined;
  } catch {
    return undefined;
  }
}

const holdsNul = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('\0')
    : Boolean(
        value &&
        typeof value === 'object' &&
        Object.entries(value).some(([name, part]) => name.includes('\0') || holdsNul(part)),
      );

function decodeCursor<Key>(cursor: string, parseKey: (raw: unknown) => Key | null, argument: string): Key {
  const raw = cursorKey(cursor);
  const key = raw === undefined ? null : parseKey(raw);
  if (key === null) throw badUserInput(`\`${argument}\` is not a cursor of this list.`, argument);
  return key;
}

function pageSize(value: number, argument: string): number {
  if (value < 0) throw badUserInput(`\`${argument}\` must not be negative.`, argument);
  if (value > MAX_PAGE_SIZE) {
    throw badUserInput(`\`${argument}\` is ${value}, above the maximum page size of ${MAX_PAGE_SIZE}.`, argument);
  }
  return value;
}

/** Validates Relay paging arguments. `parseKey` checks a decoded cursor and returns null when it does not fit. */
export function pageWindow<Key>(args: PageArgs, parseKey: (raw: unknown) => Key | null): PageWindow<Key> {
  const { first, after, last, before } = args;
  if (first != null && last != null) throw badUserInput('Pass `first` or `last`, not both.');
  if (after != null && before != null) throw badUserInput('Pass `after` or `before`, not both.');
  if (last != null || before != null) {
    if (after != null || first != null) throw badUserInput('`first`/`after` and `last`/`before` cannot be mixed.');
    return {
      backward: true,
      limit: pageSize(last ?? DEFAULT_PAGE_SIZE, 'last'),
      cursor: before != null ? decodeCursor(before, parseKey, 'before') : null,
    };
  }
  return {
    backward: false,
    limit: pageSize(first ?? DEFAULT_PAGE_SIZE, 'first'),
    cursor: after != null ? decodeCursor(after, parseKey, 'after') : null,
  };
}

/** Builds a connection from rows read in scan order (up to `limit + 1` of them). */
export function toConnection<T>(
  rows: T[],
  window: PageWindow<unknown>,
  cursorKey: (node: T) => unknown,
  totalCount: () => Promise<number>,
): Connection<T> {
  const hasMore = rows.length > window.limit;
  const page = rows.slice(0, window.limit);
  if (window.backward) page.reverse();
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorKey(node)), node }));
  return {
    edges,
    nodes: page,
    pageInfo: {
      hasNextPage: window.backward ? window.cursor !== null : hasMore,
      hasPreviousPage: window.backward ? hasMore : window.cursor !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

const totalCount = { totalCount: (connection: Connection<unknown>) => connection.totalCount() };

/** Every connection's totalCount runs its count when asked for. (The compiled executor reads a field without a
 * resolver as a plain value; it never calls a function found there as graphql-js's default resolver does.) */
export const connectionResolvers: Resolvers = {
  AccountConnection: totalCount,
  AuditLogEntryConnection: totalCount,
  CategoryConnection: totalCount,
  InventoryChangeConnection: totalCount,
  OrderConnection: totalCount,
  ProductConnection: totalCount,
  ProductVariantConnection: totalCount,
};

/** What newestFirst asks of a table: rows by an ID condition and order, and a count. */
export interface NewestFirstSource<T> {
  findMany(query: { idAfter?: { gt: string } | { lt: string }; descending: boolean; take: number }): Promise<T[]>;
  count(): Promise<number>;
}

/** A keyset page of rows newest first, for tables whose UUIDv7 IDs grow with creation time. */
export async function newestFirst<T extends { id: string }>(args: PageArgs, source: NewestFirstSource<T>) {
  const window = pageWindow(args, (raw) => (cursorPart.uuid(raw) ? raw : null));
  const rows = await source.findMany({
    ...(window.cursor && { idAfter: window.backward ? { gt: window.cursor } : { lt: window.cursor } }),
    descending: !window.backward,
    take: window.limit + 1,
  });
  return toConnection(
    rows,
    window,
    (row) => row.id,
    () => source.count(),
  );
}
