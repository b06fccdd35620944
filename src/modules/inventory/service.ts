// Stock on hand, changed only by single atomic UPDATEs whose conditions keep it at or above what is reserved, each
// recorded in the inventory ledger in the same transaction. Nothing reads stock into JavaScript to write it back.
import { z } from 'zod';
import { Prisma, type InventoryChange, type PrismaClient, type ProductVariant } from '../../generated/prisma/client.js';
import { cursorPart, pageWindow, toConnection, type Connection, type PageArgs } from '../../graphql/connection.js';
import { badUserInput } from '../../graphql/errors.js';
import { fail, fromZodIssues, succeed, userError, type Outcome } from '../userErrors.js';

/** Stock is an int4 column. */
const MAX_STOCK = 2_147_483_647;

const reason = z.string().trim().min(1, 'Reason cannot be blank.').max(200, 'Reason must be at most 200 characters.');
const adjustment = z.object({
  delta: z
    .number()
    .int()
    .min(-MAX_STOCK, `Delta must be between -${MAX_STOCK} and ${MAX_STOCK}.`)
    .max(MAX_STOCK, `Delta must be between -${MAX_STOCK} and ${MAX_STOCK}.`)
    .refine((delta) => delta !== 0, 'Delta cannot be 0.'),
  reason,
});
const setting = z.object({
  quantity: z
    .number()
    .int()
    .min(0, 'Quantity cannot be negative.')
    .max(MAX_STOCK, `Quantity must be at most ${MAX_STOCK}.`),
  compareQuantity: z.number().int().min(0, 'Compare quantity cannot be negative.'),
  reason: reason.nullish().transform((value) => value ?? 'stock set'),
});

type Change = { before: number; after: number };

export class InventoryService {
  constructor(private readonly prisma: PrismaClient) {}

  /** Adds `delta` units on hand; refused when fewer than the reserved units would remain. */
  async adjust(
    actorId: string,
    variantId: string,
    input: z.input<typeof adjustment>,
  ): Promise<Outcome<ProductVariant>> {
    const parsed = adjustment.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const { delta } = parsed.data;
    const refused = (current: ProductVariant) =>
      userError(
        ['delta'],
        'INVALID',
        `At most ${current.stockOnHand - current.stockReserved} units can be taken: ${current.stockOnHand} on hand, ${current.stockReserved} reserved.`,
      );
    return this.change(actorId, variantId, parsed.data.reason, refused, async (tx) => {
      const [row] = await tx.$queryRaw<Change[]>`
        UPDATE product_variant SET stock_on_hand = stock_on_hand + ${delta}, updated_at = now()
        WHERE id = ${variantId}::uuid AND stock_on_hand::bigint + ${delta} BETWEEN stock_reserved AND ${MAX_STOCK}
        RETURNING stock_on_hand - ${delta} AS before, stock_on_hand AS after`;
      return row;
    });
  }

  /** Sets the units on hand if they still equal `compareQuantity`. */
  async set(actorId: string, variantId: string, input: z.input<typeof setting>): Promise<Outcome<ProductVariant>> {
    const parsed = setting.safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    const { quantity, compareQuantity } = parsed.data;
    const refused = (current: ProductVariant) =>
      current.stockOnHand !== compareQuantity
        ? userError(
            ['compareQuantity'],
            'CONFLICT',
            `The stock on hand is ${current.stockOnHand}, not ${compareQuantity}: read it again before setting it.`,
          )
        : userError(
            ['quantity'],
            'INVALID',
            `${current.stockReserved} units are reserved; the quantity cannot be lower.`,
          );
    return this.change(actorId, variantId, parsed.data.reason, refused, async (tx) => {
      const [row] = await tx.$queryRaw<Change[]>`
        UPDATE product_variant SET stock_on_hand = ${quantity}, updated_at = now()
        WHERE id = ${variantId}::uuid AND stock_on_hand = ${compareQuantity} AND ${quantity} >= stock_reserved
        RETURNING ${compareQuantity}::int AS before, stock_on_hand AS after`;
      return row;
    });
  }

  /** Variants with at most `threshold` units available, least available first, as keyset pages. */
  async lowStock(threshold: number, args: PageArgs): Promise<Connection<ProductVariant & { available: number }>> {
    if (threshold < 0) throw badUserInput('`threshold` cannot be negative.', 'threshold');
    const window = pageWindow(args, (raw) => {
      const [available, id] = (Array.isArray(raw) ? raw : []) as unknown[];
      return cursorPart.int(available) && cursorPart.uuid(id) ? { available, id } : null;
    });
    const { cursor, backward } = window;
    const direction = Prisma.raw(backward ? 'DESC' : 'ASC');
    const keyset = cursor
      ? Prisma.sql`(stock_on_hand - stock_reserved, id) ${Prisma.raw(backward ? '<' : '>')} (${cursor.available}, ${cursor.id}::uuid)`
      : Prisma.sql`TRUE`;
    const ids = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id FROM product_variant
      WHERE stock_on_hand - stock_reserved <= ${threshold} AND ${keyset}
      ORDER BY stock_on_hand - stock_reserved ${direction}, id ${direction}
      LIMIT ${window.limit + 1}`;
    const variants = new Map(
      (await this.prisma.productVariant.findMany({ where: { id: { in: ids.map((row) => row.id) } } })).map((v) => [
        v.id,
        v,
      ]),
    );
    const rows = ids
      .map(({ id }) => variants.get(id)!)
      .map((v) => ({ ...v, available: v.stockOnHand - v.stockReserved }));
    return toConnection(
      rows,
      window,
      (variant) => [variant.available, variant.id],
      async () => {
        const [{ count }] = await this.prisma.$queryRaw<[{ count: number }]>`
          SELECT count(*)::int AS count FROM product_variant WHERE stock_on_hand - stock_reserved <= ${threshold}`;
        return count;
      },
    );
  }

  /** The variant's ledger, newest first. */
  async history(variantId: string, args: PageArgs): Promise<Connection<InventoryChange>> {
    const window = pageWindow(args, (raw) => {
      const [at, id] = (Array.isArray(raw) ? raw : []) as unknown[];
      return cursorPart.timestamp(at) && cursorPart.uuid(id) ? { time: new Date(at), id } : null;
    });
    const { cursor, backward } = window;
    const beyond = backward ? 'gt' : 'lt';
    const direction = backward ? 'asc' : 'desc';
    const rows = await this.prisma.inventoryChange.findMany({
      where: {
        variantId,
        ...(cursor && {
          OR: [{ createdAt: { [beyond]: cursor.time } }, { createdAt: cursor.time, id: { [beyond]: cursor.id } }],
        }),
      },
      orderBy: [{ createdAt: direction }, { id: direction }],
      take: window.limit + 1,
    });
    return toConnection(
      rows,
      window,
      (change) => [change.createdAt.toISOString(), change.id],
      () => this.prisma.inventoryChange.count({ where: { variantId } }),
    );
  }

  /** Runs one conditional UPDATE and records it, or explains why it matched no row. */
  private async change(
    actorId: string,
    variantId: string,
    reason: string,
    refused: (current: ProductVariant) => ReturnType<typeof userError>,
    update: (tx: Prisma.TransactionClient) => Promise<Change | undefined>,
  ): Promise<Outcome<ProductVariant>> {
    const variant = await this.prisma.$transaction(async (tx) => {
      const row = await update(tx);
      if (!row) return null;
      await tx.inventoryChange.create({ data: { variantId, accountId: actorId, reason, ...row } });
      return tx.productVariant.findUniqueOrThrow({ where: { id: variantId } });
    });
    if (variant) return succeed(variant);
    const current = await this.prisma.productVariant.findUnique({ where: { id: variantId } });
    return fail(current ? refused(current) : userError(['variantId'], 'NOT_FOUND', 'No variant with this ID.'));
  }
}
