// A processor in test mode. Test tokens:
//   tok_visa, tok_mastercard       approve
//   tok_card_declined              decline with card_declined
//   tok_insufficient_funds         decline with insufficient_funds
//   tok_transient_error            fail transiently on the first attempt of an idempotency key, approve on retry
//   tok_requires_action            wait for asynchronous confirmation (stays pending)
// Any other token declines with invalid_token. Amounts must be 1 to 99 999 999 minor units. Results are kept per
// idempotency key, as a real processor does, so a replayed authorization returns the first answer. Webhook
// deliveries are signed with PAYMENT_WEBHOOK_SECRET (see webhookSignature.ts).
import { randomUUID } from 'node:crypto';
import {
  InvalidWebhookError,
  TransientPaymentError,
  type AuthorizeRequest,
  type AuthorizeResult,
  type PaymentOperationRequest,
  type PaymentProvider,
  type PaymentWebhookEvent,
} from './provider.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from './webhookSignature.js';

const EVENT_TYPES = new Set(['payment.authorized', 'payment.failed', 'payment.captured', 'payment.refunded']);

const MAX_AMOUNT = 99_999_999;

export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  private readonly results = new Map<string, AuthorizeResult>();
  private readonly transientFailures = new Set<string>();
  private readonly operations = new Set<string>();
  /** Authorizations that reached the processor, for tests that count charges. */
  authorizations = 0;
  /** Captures, voids and refunds that reached the processor, once per idempotency key. */
  operationCount = 0;

  constructor(private readonly webhookSecret: string) {}

  async authorize({ amount, token, idempotencyKey }: AuthorizeRequest): Promise<AuthorizeResult> {
    const known = this.results.get(idempotencyKey);
    if (known) return known;
    if (token === 'tok_transient_error' && !this.transientFailures.has(idempotencyKey)) {
      this.transientFailures.add(idempotencyKey);
      throw new TransientPaymentError('sandbox: simulated processor timeout');
    }
    const result = this.decide(amount, token);
    if (result.status !== 'declined') this.authorizations += 1;
    this.results.set(idempotencyKey, result);
    return result;
  }

  async capture({ idempotencyKey }: PaymentOperationRequest): Promise<void> {
    this.count(idempotencyKey);
  }

  async void({ idempotencyKey }: Omit<PaymentOperationRequest, 'amount'>): Promise<void> {
    this.count(idempotencyKey);
  }

  async refund({ idempotencyKey }: PaymentOperationRequest): Promise<void> {
    this.count(idempotencyKey);
  }

  verifyWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PaymentWebhookEvent {
    verifyWebhookSignature(this.webhookSecret, rawBody, headers[SIGNATURE_HEADER]);
    let event: Partial<PaymentWebhookEvent>;
    try {
      event = JSON.parse(rawBody.toString('utf8')) as Partial<PaymentWebhookEvent>;
    } catch {
      throw new InvalidWebhookError('body is not JSON');
    }
    const { id, type, reference, amount } = event;
    if (
      typeof id !== 'string' ||
      !EVENT_TYPES.has(type ?? '') ||
      typeof reference !== 'string' ||
      !Number.isInteger(amount)
    ) {
      throw new InvalidWebhookError('not a payment event');
    }
    return { id, type: type!, reference, amount: amount! };
  }

  private count(idempotencyKey: string) {
    if (this.operations.has(idempotencyKey)) return;
    this.operations.add(idempotencyKey);
    this.operationCount += 1;
  }

  private decide(amount: number, token: string): AuthorizeResult {
    const reference = `sandbox_${randomUUID()}`;
    if (!Number.isInteger(amount) || amount < 1 || amount > MAX_AMOUNT) {
      return { status: 'declined', code: 'invalid_amount', message: 'The amount is not one the card can be charged.' };
    }
    switch (token) {
      case 'tok_visa':
      case 'tok_mastercard':
      case 'tok_transient_error':
        return { status: 'authorized', reference };
      case 'tok_requires_action':
        return { status: 'pending', reference };
      case 'tok_card_declined':
        return { status: 'declined', code: 'card_declined', message: 'The card was declined.' };
      case 'tok_insufficient_funds':
        return { status: 'declined', code: 'insufficient_funds', message: 'The card has insufficient funds.' };
      default:
        return { status: 'declined', code: 'invalid_token', message: 'The payment token is not valid.' };
    }
  }
}
