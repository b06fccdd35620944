// Carts: lines checked against the catalog and stock as they are added, buyer identity, shipping method, and the
// merge of a guest cart into the customer's cart at sign-in. Stock is only checked here; checkout reserves it.
import { z } from 'zod';
import type { Cart, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { addressFields, email } from '../account/index.js';
import {
  fail,
  fromZodIssues,
  orRollback,
  Rollback,
  succeed,
  transact,
  userError,
  type Outcome,
  type UserError,
} from '../userErrors.js';
import { MAX_CART_SUBTOTAL, subtotalOf } from './pricing.js';

export const MAX_LINE_QUANTITY = 50;
/** Distinct lines a cart holds: Cart.lines is read back whole, and its @listSize is this cap. */
export const MAX_CART_LINES = 100;
/** Lines one mutation may send (more could never fit in a cart). */
export const MAX_LINES_PER_REQUEST = MAX_CART_LINES;

/** Database IDs (see databaseIdOrUnknown): an ID that names nothing is simply not found. */
export interface LineRequest {
  variantId: string;
  quantity: number;
}

type Tx = Prisma.TransactionClient;

/** Checked before anything else, so that a huge input costs no database work. */
const tooManyLines = (lines: readonly unknown[] | null | undefined): Outcome<never> | null =>
  lines && lines.length > MAX_LINES_PER_REQUEST
    ? fail(userError(['lines'], 'LIMIT_REACHED', `At most ${MAX_LINES_PER_REQUEST} lines can be sent at once.`))
    : null;

const quantityProblem = (quantity: number, field: string[]): UserError | null =>
  !Number.isInteger(quantity) || quantity < 1 || quantity > MAX_LINE_QUANTITY
    ? userError(field, 'INVALID', `Quantity must be between 1 and ${MAX_LINE_QUANTITY}.`)
    : null;

/** Refuses lines whose goods would cost more than an order may (its amounts are int4 columns). */
const subtotalProblem = (lines: { unitPrice: number; quantity: number }[]): UserError | null =>
  subtotalOf(lines) > BigInt(MAX_CART_SUBTOTAL)
    ? userError(
        ['lines'],
        'LIMIT_REACHED',
        `A cart's goods may cost at most ${MAX_CART_SUBTOTAL} minor units of the store currency; lower the quantities.`,
      )
    : null;

/** A DUPLICATE error for each entry naming the same line as an earlier one. */
const duplicates = (ids: string[], field: (i: number) => string[]): UserError[] =>
  ids.flatMap((id, i) =>
    ids.indexOf(id) < i
      ? [userError(field(i), 'DUPLICATE', `Line ${ids.indexOf(id)} of the input already names this cart line.`)]
      : [],
  );

export class CartService {
  constructor(private readonly prisma: PrismaClient) {}

  async create(accountId: string | null, input: { lines?: LineRequest[] | null; email?: string | null }) {
    const tooMany = tooManyLines(input.lines);
    if (tooMany) return tooMany;
    const parsedEmail = z.object({ email: email.nullish() }).safeParse({ email: input.email });
    if (!parsedEmail.success) return fail(...fromZodIssues(parsedEmail.error.issues));
    return transact(this.prisma, async (tx) => {
      const cart = await tx.cart.create({ data: { accountId, email: parsedEmail.data.email ?? null } });
      return orRollback(await this.addLinesIn(tx, cart.id, input.lines ?? []));
    });
  }

  async addLines(cartId: string, lines: LineRequest[]): Promise<Outcome<Cart>> {
    const tooMany = tooManyLines(lines);
    if (tooMany) return tooMany;
    return transact(this.prisma, async (tx) => orRollback(await this.addLinesIn(tx, cartId, lines)));
  }

  async updateLines(cartId: string, changes: { id: string; quantity: number }[]): Promise<Outcome<Cart>> {
    const tooMany = tooManyLines(changes);
    if (tooMany) return tooMany;
    if (!(await this.exists(cartId))) return cartNotFound();
    const problems = changes.flatMap(({ quantity }, i) =>
      quantity === 0 ? [] : [quantityProblem(quantity, ['lines', String(i), 'quantity'])].filter((p) => p !== null),
    );
    if (problems.length) return fail(...problems);
    return transact(this.prisma, async (tx) => {
      const lines = await tx.cartLine.findMany({ where: { cartId }, include: { variant: true } });
      const errors: UserError[] = [];
      for (const [i, change] of changes.entries()) {
        const line = lines.find((l) => l.id === change.id);
        if (!line) errors.push(userError(['lines', String(i), 'id'], 'NOT_FOUND', 'No line with this ID in the cart.'));
        else if (change.quantity > line.variant.stockOnHand - line.variant.stockReserved) {
          errors.push(insufficient(['lines', String(i), 'quantity'], line.variant));
        }
      }
      errors.push(
        ...duplicates(
          changes.map((change) => change.id),
          (i) => ['lines', String(i), 'id'],
        ),
      );
      const quantities = new Map(changes.map((change) => [change.id, change.quantity]));
      const after = lines.map((line) => ({
        unitPrice: line.variant.priceAmount,
        quantity: quantities.get(line.id) ?? line.quantity,
      }));
      const tooCostly = subtotalProblem(after);
      if (tooCostly) errors.push(tooCostly);
      if (errors.length) throw new Rollback(...errors);
      for (const change of changes) {
        // Scoped to the cart, and counted rather than thrown on: a line a racing request removed is not a crash.
        const changed =
          change.quantity === 0
            ? await tx.cartLine.deleteMany({ where: { id: change.id, cartId } })
            : await tx.cartLine.updateMany({ where: { id: change.id, cartId }, data: { quantity: change.quantity } });
        if (changed.count === 0) throw new Rollback(lineGone(changes.indexOf(change)));
      }
      return touch(tx, cartId);
    });
  }

  async removeLines(cartId: string, lineIds: string[]): Promise<Outcome<Cart>> {
    if (!(await this.exists(cartId))) return cartNotFound();
    // Naming a line twice removes it once.
    await this.prisma.cartLine.deleteMany({ where: { cartId, id: { in: [...new Set(lineIds)] } } });
    return succeed(await touch(this.prisma, cartId));
  }

  async setBuyerIdentity(
    cartId: string,
    input: { email?: string | null; shippingAddress?: z.input<typeof addressFields> | null },
  ): Promise<Outcome<Cart>> {
    const parsed = z.object({ email: email.nullish(), shippingAddress: addressFields.nullish() }).safeParse(input);
    if (!parsed.success) return fail(...fromZodIssues(parsed.error.issues));
    if (!(await this.exists(cartId))) return cartNotFound();
    const { email: newEmail, shippingAddress } = parsed.data;
    const cart = await this.prisma.cart.update({
      where: { id: cartId },
      data: {
        ...(newEmail !== undefined && { email: newEmail }),
        ...(shippingAddress !== undefined && { shippingAddress: shippingAddress ?? undefined }),
      },
      include: { shippingMethod: true },
    });
    // A chosen method that does not serve the new country is dropped rather than silently charged.
    const country = shippingAddress?.countryCode;
    if (country && cart.shippingMethod && !cart.shippingMethod.countries.includes(country)) {
      return succeed(await this.prisma.cart.update({ where: { id: cartId }, data: { shippingMethodId: null } }));
    }
    return succeed(cart);
  }

  async selectShippingMethod(cartId: string, shippingMethodId: string): Promise<Outcome<Cart>> {
    if (!(await this.exists(cartId))) return cartNotFound();
    const method = await this.prisma.shippingMethod.findFirst({ where: { id: shippingMethodId, active: true } });
    if (!method) return fail(userError(['shippingMethodId'], 'NOT_FOUND', 'No shipping method with this ID.'));
    const cart = await this.prisma.cart.findUniqueOrThrow({ where: { id: cartId } });
    const country = (cart.shippingAddress as { countryCode?: string } | null)?.countryCode;
    if (country && !method.countries.includes(country)) {
      return fail(userError(['shippingMethodId'], 'INVALID', `${method.name} does not ship to ${country}.`));
    }
    return succeed(await this.prisma.cart.update({ where: { id: cartId }, data: { shippingMethodId } }));
  }

  /** At sign-in: the guest cart's lines join the customer's open cart (or the guest cart becomes theirs). */
  async mergeGuestCart(accountId: string, guestCartId: string): Promise<Cart | null> {
    return this.prisma.$transaction(async (tx) => {
      const guest = await tx.cart.findUnique({
        where: { id: guestCartId },
        include: { lines: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
      });
      const own = await tx.cart.findFirst({ where: { accountId }, orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }] });
      if (!guest || (guest.accountId && guest.accountId !== accountId)) return own;
      if (!own || own.id === guest.id) return tx.cart.update({ where: { id: guest.id }, data: { accountId } });
      const ownLines = await tx.cartLine.findMany({ where: { cartId: own.id } });
      const added: LineRequest[] = [];
      for (const line of guest.lines) {
        const existing = ownLines.find((l) => l.variantId === line.variantId);
        if (!existing) added.push(line);
        else {
          const quantity = Math.min(existing.quantity + line.quantity, MAX_LINE_QUANTITY);
          await tx.cartLine.update({ where: { id: existing.id }, data: { quantity } });
        }
      }
      await appendLines(tx, own.id, added);
      await tx.cart.delete({ where: { id: guest.id } });
      return touch(tx, own.id);
    });
  }

  private async exists(cartId: string): Promise<boolean> {
    return Boolean(await this.prisma.cart.findUnique({ where: { id: cartId }, select: { id: true } }));
  }

  private async addLinesIn(tx: Tx, cartId: string, requests: LineRequest[]): Promise<Outcome<Cart>> {
    const cart = await tx.cart.findUnique({ where: { id: cartId }, include: { lines: true } });
    if (!cart) return cartNotFound();
    const variantIds = new Set([...requests.map((r) => r.variantId), ...cart.lines.map((line) => line.variantId)]);
    const variants = await tx.productVariant.findMany({ where: { id: { in: [...variantIds] } } });
    const wanted = new Map(cart.lines.map((line) => [line.variantId, line.quantity]));
    const errors: UserError[] = [];
    for (const [i, request] of requests.entries()) {
      const field = ['lines', String(i)];
      const variant = variants.find((v) => v.id === request.variantId);
      const quantity = (wanted.get(request.variantId) ?? 0) + request.quantity;
      const problem =
        quantityProblem(request.quantity, [...field, 'quantity']) ?? quantityProblem(quantity, [...field, 'quantity']);
      if (!variant) errors.push(userError([...field, 'variantId'], 'NOT_FOUND', 'No variant with this ID.'));
      else if (problem) errors.push(problem);
      else if (quantity > variant.stockOnHand - variant.stockReserved)
        errors.push(insufficient([...field, 'quantity'], variant));
      else wanted.set(request.variantId, quantity);
    }
    if (wanted.size > MAX_CART_LINES)
      errors.push(userError(['lines'], 'LIMIT_REACHED', `A cart holds at most ${MAX_CART_LINES} lines.`));
    if (!errors.length) {
      const price = new Map(variants.map((variant) => [variant.id, variant.priceAmount]));
      const priced = [...wanted].map(([variantId, quantity]) => ({ unitPrice: price.get(variantId)!, quantity }));
      const tooCostly = subtotalProblem(priced);
      if (tooCostly) errors.push(tooCostly);
    }
    if (errors.length) return fail(...errors);
    const existing = new Map(cart.lines.map((line) => [line.variantId, line]));
    const added: LineRequest[] = [];
    for (const [variantId, quantity] of wanted) {
      const line = existing.get(variantId);
      if (!line) added.push({ variantId, quantity });
      else if (line.quantity !== quantity) await tx.cartLine.update({ where: { id: line.id }, data: { quantity } });
    }
    await appendLines(tx, cartId, added);
    return succeed(await touch(tx, cartId));
  }
}

const cartNotFound = () => fail(userError(['cartId'], 'NOT_FOUND', 'No cart with this ID.'));
const lineGone = (i: number) =>
  userError(['lines', String(i), 'id'], 'NOT_FOUND', 'This line was removed from the cart meanwhile.');

const insufficient = (field: string[], variant: { stockOnHand: number; stockReserved: number }) => {
  const available = Math.max(variant.stockOnHand - variant.stockReserved, 0);
  return userError(field, 'INSUFFICIENT_STOCK', available ? `Only ${available} available.` : 'Out of stock.');
};

/** Adds new lines after the existing ones, keeping their order: each is stamped a millisecond after the last,
 * because lines are listed by creation time. */
async function appendLines(tx: Tx, cartId: string, lines: LineRequest[]): Promise<void> {
  const start = Date.now();
  await tx.cartLine.createMany({
    data: lines.map(({ variantId, quantity }, i) => ({ cartId, variantId, quantity, createdAt: new Date(start + i) })),
  });
}

/** Marks the cart changed (it orders a customer's carts) and returns it. */
const touch = (db: Tx | PrismaClient, cartId: string) =>
  db.cart.update({ where: { id: cartId }, data: { updatedAt: new Date() } });
