// HMAC-SHA256 webhook signatures in the common `t=<unix seconds>,v1=<hex>` form over `<t>.<raw body>`, with a
// timestamp tolerance so a captured delivery cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidWebhookError } from './provider.js';

export const SIGNATURE_HEADER = 'agora-signature';
const TOLERANCE_SECONDS = 300;

export function signWebhook(secret: string, rawBody: Buffer | string, timestamp = Math.floor(Date.now() / 1000)) {
  const digest = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

export function verifyWebhookSignature(secret: string, rawBody: Buffer, header: string | string[] | undefined): void {
  const parts = new Map(
    (typeof header === 'string' ? header : '').split(',').map((part) => part.split('=', 2) as [string, string]),
  );
  const timestamp = Number(parts.get('t'));
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  if (!Number.isInteger(timestamp) || given.length !== 32) throw new InvalidWebhookError('malformed signature');
  if (Math.abs(Date.now() / 1000 - timestamp) > TOLERANCE_SECONDS) throw new InvalidWebhookError('stale signature');
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
  if (!timingSafeEqual(expected, given)) throw new InvalidWebhookError('bad signature');
}
