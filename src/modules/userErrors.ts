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

/** The columns of the unique constraint a write ran into, or null when the error is something else. */
export function uniqueViolation(error: unknown): string[] | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') return null;
  const meta = error.meta as
    { target?: string[] | string; driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } } | undefined;
  const fields = meta?.driverAdapterError?.cause?.constraint?.fields ?? meta?.target ?? [];
  return (Array.isArray(fields) ? fields : [fields]).map((f) => f.replaceAll('"', ''));
}
