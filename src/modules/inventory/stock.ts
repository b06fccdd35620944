// Reserving, selling and releasing order stock. Every change is one conditional UPDATE per variant, taken in
// variant-ID order so concurrent checkouts lock rows in the same order and cannot deadlock.
import type { Prisma } from '../../generated/prisma/client.js';

export interface StockLine {
  variantId: string;
  quantity: number;
}

const byVariant = (lines: StockLine[]) => [...lines].sort((a, b) => a.variantId.localeCompare(b.variantId));

/** Reserves every line, or none: returns the lines that had too little available (the caller rolls back). */
export async function reserve(tx: Prisma.TransactionClient, lines: StockLine[]): Promise<StockLine[]> {
  const short: StockLine[] = [];
  for (const line of byVariant(lines)) {
    const reserved = await tx.$executeRaw`
      UPDATE product_variant SET stock_reserved = stock_reserved + ${line.quantity}, updated_at = now()
      WHERE id = ${line.variantId}::uuid AND stock_on_hand - stock_reserved >= ${line.quantity}`;
    if (reserved === 0) short.push(line);
  }
  return short;
}

/** Gives reserved units back to what is available. */
export async function release(tx: Prisma.TransactionClient, lines: StockLine[]): Promise<void> {
  for (const line of byVariant(lines)) {
    await tx.$executeRaw`
      UPDATE product_variant SET stock_reserved = stock_reserved - ${line.quantity}, updated_at = now()
      WHERE id = ${line.variantId}::uuid`;
  }
}

/** Turns reserved units into sold ones (on hand and reserved both go down), recorded in the inventory ledger. */
export async function sell(tx: Prisma.TransactionClient, lines: StockLine[], reason: string): Promise<void> {
  for (const line of byVariant(lines)) {
    await tx.$executeRaw`
      WITH sold AS (
        UPDATE product_variant
        SET stock_on_hand = stock_on_hand - ${line.quantity}, stock_reserved = stock_reserved - ${line.quantity},
            updated_at = now()
        WHERE id = ${line.variantId}::uuid
        RETURNING stock_on_hand + ${line.quantity} AS before, stock_on_hand AS after
      )
      INSERT INTO inventory_change (id, variant_id, reason, before, after, created_at)
      SELECT gen_random_uuid(), ${line.variantId}::uuid, ${reason}, before, after, now() FROM sold`;
  }
}

/** Puts sold units back on hand (a cancelled paid order), recorded in the inventory ledger. */
export async function restock(
  tx: Prisma.TransactionClient,
  lines: StockLine[],
  reason: string,
  accountId: string | null,
): Promise<void> {
  for (const line of byVariant(lines)) {
    await tx.$executeRaw`
      WITH restocked AS (
        UPDATE product_variant SET stock_on_hand = stock_on_hand + ${line.quantity}, updated_at = now()
        WHERE id = ${line.variantId}::uuid
        RETURNING stock_on_hand - ${line.quantity} AS before, stock_on_hand AS after
      )
      INSERT INTO inventory_change (id, variant_id, account_id, reason, before, after, created_at)
      SELECT gen_random_uuid(), ${line.variantId}::uuid, ${accountId}::uuid, ${reason}, before, after, now()
      FROM restocked`;
  }
}
