// Rows get UUIDv7 IDs as they are written: an ID's first 48 bits are its creation time in milliseconds, within moments
// of the row's created_at. A created_at filter can then also bound the ID, which PostgreSQL reads as a range of the
// primary key; on created_at alone it walks the key from the newest row and filters, unaware the two go together.

/** How far an ID's time may be from its row's created_at: set in one write, on clocks that may differ a little. */
const CLOCK_MARGIN_MS = 5 * 60_000;
const MAX_UUIDV7_TIME = 2 ** 48 - 1;

/** The smallest UUID of the millisecond `time`, which no UUIDv7 of a later millisecond is below. */
export function firstIdAt(time: number): string {
  const hex = Math.min(Math.max(0, time), MAX_UUIDV7_TIME).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** An ID range that holds every row created at or after `since` and before `until`, with a margin either side. */
export function idsCreatedBetween(since?: Date | null, until?: Date | null): { gte?: string; lt?: string } {
  return {
    ...(since && { gte: firstIdAt(since.getTime() - CLOCK_MARGIN_MS) }),
    ...(until && { lt: firstIdAt(until.getTime() + CLOCK_MARGIN_MS) }),
  };
}
