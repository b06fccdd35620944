// Refusals decided from the HTTP request alone, before GraphQL sees it, answered as GraphQL errors in JSON.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

function refuse(res: Response, status: number, code: string, message: string, extensions: object = {}) {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
}

/** Batched requests (a JSON array of operations) are refused beyond `maximum`; 0 turns batching off. */
export const batchLimit =
  (maximum: number): RequestHandler =>
  (req, res, next) => {
    if (!Array.isArray(req.body) || req.body.length <= maximum) return next();
    const found = req.body.length;
    req.log.warn({ client: req.ip, found, maximum }, 'batched request refused');
    const message =
      maximum === 0
        ? 'Batched requests are turned off: send one operation per request.'
        : `The request batches ${found} operations, above the maximum of ${maximum}.`;
    refuse(res, 400, 'BATCH_LIMIT_EXCEEDED', message, { maximum, found });
  };

/** Far deeper than any real variables; code that walks a value recursively stays well within the stack. */
export const MAX_JSON_NESTING = 64;

export function nestingDeeperThan(value: unknown, maximum: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [current, depth] = item;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maximum) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Request bodies nested deeper than `maximum` arrays or objects are refused before anything walks them. */
export const nestingLimit =
  (maximum: number): RequestHandler =>
  (req, res, next) => {
    if (!nestingDeeperThan(req.body, maximum)) return next();
    req.log.warn({ client: req.ip, maximum }, 'deeply nested request refused');
    refuse(res, 400, 'BAD_REQUEST', `The request body nests arrays or objects deeper than ${maximum} levels.`, {
      maximum,
    });
  };

const BODY_ERRORS: Record<string, { code: string; message: (limit?: number) => string }> = {
  'entity.too.large': {
    code: 'PAYLOAD_TOO_LARGE',
    message: (limit) => `The request body is larger than the maximum of ${limit} bytes.`,
  },
  'entity.parse.failed': { code: 'BAD_REQUEST', message: () => 'The request body is not valid JSON.' },
  'encoding.unsupported': {
    code: 'BAD_REQUEST',
    message: () => 'The request body’s content encoding is not supported.',
  },
  'charset.unsupported': { code: 'BAD_REQUEST', message: () => 'The request body must be UTF-8.' },
};

/** Body-parser failures get a GraphQL-shaped answer; anything else is an internal error whose details stay in logs. */
export const requestErrors: ErrorRequestHandler = (
  error: { type?: string; status?: number; limit?: number },
  req,
  res,
  next,
) => {
  if (res.headersSent) return next(error);
  const known = error.type ? BODY_ERRORS[error.type] : undefined;
  if (known) {
    req.log.warn({ client: req.ip, reason: error.type }, 'request refused');
    const status = error.status ?? 400;
    return refuse(res, status, known.code, known.message(error.limit), status === 413 ? { maximum: error.limit } : {});
  }
  req.log.error({ err: error }, 'request failed');
  refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
};
