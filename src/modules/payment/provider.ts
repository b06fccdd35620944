// What Agora needs from a payment processor. Amounts are integer minor units. Every call carries the caller's
// idempotency key, so a retried request never charges twice.

export type AuthorizeResult =
  | { status: 'authorized'; reference: string }
  | { status: 'declined'; code: string; message: string }
  /** The processor confirms later (3-D Secure, bank transfer, ...): the order waits with its stock reserved. */
  | { status: 'pending'; reference: string };

export interface AuthorizeRequest {
  amount: number;
  currencyCode: string;
  token: string;
  idempotencyKey: string;
}

/** A failure worth retrying (timeout, processor outage): nothing was charged. */
export class TransientPaymentError extends Error {
  override name = 'TransientPaymentError';
}

export interface PaymentProvider {
  readonly name: string;
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
}
