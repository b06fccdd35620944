// Expected business failures, returned in mutation payloads instead of thrown.
import type { z } from 'zod';
import type { UserErrorCode } from '../generated/graphql.js';
import { Prisma } from '../generated/prisma/client.js';

export interface UserError {
  field: string[] | null;
  message: string;
  code: UserErrorCode;
}

/** A mutation's result: the thing it made or changed, or why it could not. */
export type Outcome<T> = { value: T; userErrors: [] } | { value: null; userErrors: UserError[] };

export const succeed = <T>(value: T): Outcome<T> => ({ value, userErrors: [] });
export const fail = (...userErrors: UserError[]): Outcome<never> => ({ value: null, userErrors });
export const userError = (field: string[], code: UserErrorCode, message: string): UserError => ({
  field: ['input', ...field],
  code,
  message,
});

/** An error about the request as a whole rather than one input field. */
export const requestError = (code: UserErrorCode, message: string): UserError => ({ field: null, code, message });

/** Zod issues as user errors on the input's fields: an empty required value is BLANK, anything else INVALID. */
export function fromZodIssues(issues: z.core.$ZodIssue[]): UserError[] {
  return issues.map((issue) =>
    userError(
      issue.path.map(String),
      issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1 ? 'BLANK' : 'INVALID',
      issue.message,
    ),
  );
}

/** What a database error means for the request, where it means something: a unique value taken, a row that is not
 * there (any more), or a row still referenced (a foreign key). Null for anything else. */
export function databaseErrorOf(error: unknown): 'unique' | 'not_found' | 'foreign_key' | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return null;
  return ({ P2002: 'unique', P2025: 'not_found', P2003: 'foreign_key' } as const)[error.code as 'P2002'] ?? null;
}

type UniqueViolationMeta = {
  target?: string[] | string;
  driverAdapterError?: { cause?: { constraint?: { fields?: string[]; index?: string } } };
};

/** Whether `error` is a unique violation on `column`: its constraint lists the column, or is the index named after
 * it (`<table>_<column>_key`, as Prisma names them), as the pg driver adapter reports. */
export function isUniqueViolation(error: unknown, column: string): boolean {
  if (databaseErrorOf(error) !== 'unique') return false;
  const meta = (error as Prisma.PrismaClientKnownRequestError).meta as UniqueViolationMeta | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  const fields = [constraint?.fields ?? [], meta?.target ?? []].flat().map((f) => f.replaceAll('"', ''));
  return fields.includes(column) || Boolean(constraint?.index?.endsWith(`_${column}_key`));
}

/** Thrown inside a transaction to roll it back and answer with these user errors (see `transact`). */
export class Rollback extends Error {
  readonly userErrors: UserError[];
  constructor(...userErrors: UserError[]) {
    super('rolled back with user errors');
    this.userErrors = userErrors;
  }
}

/** An outcome's value, or a Rollback of its user errors (inside `transact`). */
export function orRollback<T>(outcome: Outcome<T>): T {
  if (outcome.value === null) throw new Rollback(...outcome.userErrors);
  return outcome.value;
}

type TransactionRunner = {
  $transaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T>;
};

/** Runs `work` in a transaction: its value as a success, or a Rollback's user errors with nothing changed. */
export async function transact<T>(
  prisma: TransactionRunner,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<Outcome<T>> {
  try {
    return succeed(await prisma.$transaction(work));
  } catch (error) {
    const mapped = userErrorsOf(error);
    if (mapped) return fail(...mapped);
    throw error;
  }
}

/** The user errors an exception stands for: a Rollback's, or a refused state-machine move; null for anything else. */
export function userErrorsOf(error: unknown): UserError[] | null {
  if (error instanceof Rollback) return error.userErrors;
  if (error instanceof Error && error.name === 'TransitionRefused') {
    return [userError(['orderId'], 'CONFLICT', `The order cannot change this way: ${error.message}.`)];
  }
  return null;
}

/** The rule every mutation that takes an idempotency key applies to it. */
export function idempotencyKeyProblem(key: string): UserError | null {
  return key.length < 8 || key.length > 100
    ? userError(['idempotencyKey'], 'INVALID', 'The idempotency key must be 8 to 100 characters.')
    : null;
}

export const keyReused = (): UserError =>
  userError(
    ['idempotencyKey'],
    'IDEMPOTENCY_KEY_REUSED',
    'This idempotency key was used for a different request; make a new key for a new request.',
  );
