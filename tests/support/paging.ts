import { expect } from 'vitest';

interface Page<Node> {
  totalCount: number;
  edges: unknown[];
  nodes: Node[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

type PageArgs = { first: number; after: string | null } | { last: number; before: string | null };

/**
 * Walks every page of a connection in one direction, checking each page's size, flags and total on the way, and
 * returns the nodes in the connection's order.
 */
export async function walkPages<Node>(
  direction: 'forward' | 'backward',
  pageSize: number,
  total: number,
  fetchPage: (args: PageArgs) => Promise<Page<Node>>,
): Promise<Node[]> {
  const pages: Page<Node>[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Node> = await fetchPage(
      direction === 'forward' ? { first: pageSize, after: cursor } : { last: pageSize, before: cursor },
    );
    expect(page.totalCount).toBe(total);
    expect(page.edges).toHaveLength(page.nodes.length);
    pages.push(page);
    const { hasNextPage, hasPreviousPage, startCursor, endCursor } = page.pageInfo;
    expect(direction === 'forward' ? hasPreviousPage : hasNextPage).toBe(pages.length > 1);
    cursor = direction === 'forward' ? (hasNextPage ? endCursor : null) : hasPreviousPage ? startCursor : null;
  } while (cursor);
  expect(pages.slice(0, -1).every((page) => page.nodes.length === pageSize)).toBe(true);
  return (direction === 'forward' ? pages : [...pages].reverse()).flatMap((page) => page.nodes);
}
