// What Agora needs from a payment processor. Amounts are integer minor units. Every call carries the caller's
// idempotency key, so a retried request never charges, captures or refunds twice.

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

export interface PaymentOperationRequest {
  /** The processor's reference from authorize. */
  reference: string;
  amount: number;
  idempotencyKey: string;
}

/** An event the processor sent to the webhook endpoint, after its signature checked out. */
export interface PaymentWebhookEvent {
  id: string;
  type: 'payment.authorized' | 'payment.failed' | 'payment.captured' | 'payment.refunded';
  reference: string;
  amount: number;
}

/** A failure worth retrying (timeout, processor outage): nothing was charged. */
export class TransientPaymentError extends Error {
  override name = 'TransientPaymentError';
}

/** A webhook delivery that is not authentic, too old, or malformed. */
export class InvalidWebhookError extends Error {
  override name = 'InvalidWebhookError';
}

export interface PaymentProvider {
  readonly name: string;
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  /** What the processor answered for an authorization under this key; null when it never reached the processor.
   * How recovery settles a checkout whose process died before it could record the answer. */
  lookup(idempotencyKey: string): Promise<AuthorizeResult | null>;
  /** Captures `amount` more of an open authorization; `final` releases what is left of it. */
  capture(request: PaymentOperationRequest & { final: boolean }): Promise<void>;
  /** Releases what is left of an authorization (a pending one included). */
  void(request: Omit<PaymentOperationRequest, 'amount'>): Promise<void>;
  refund(request: PaymentOperationRequest): Promise<void>;
  /** Whether a capture, void or refund under this key reached the processor (recovery asks). */
  operationDone(idempotencyKey: string): Promise<boolean>;
  /** The event in a webhook delivery; throws InvalidWebhookError unless it is signed, fresh and well-formed. */
  verifyWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PaymentWebhookEvent;
}
