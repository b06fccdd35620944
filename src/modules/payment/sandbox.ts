// A processor in test mode. Test tokens:
//   tok_visa, tok_mastercard       approve
//   tok_card_declined              decline with card_declined
//   tok_insufficient_funds         decline with insufficient_funds
//   tok_transient_error            fail transiently on the first attempt of an idempotency key, approve on retry
//   tok_requires_action            wait for asynchronous confirmation (stays pending)
// Any other token declines with invalid_token. Amounts must be 1 to 99 999 999 minor units. Its ledger lives in the
// database (sandbox_charge, sandbox_request), so every instance talks to one processor, as with a real one: an
// authorization replayed under its idempotency key returns the first answer wherever it is sent. Webhook deliveries
// are signed with PAYMENT_WEBHOOK_SECRET (see webhookSignature.ts).
import { randomUUID } from 'node:crypto';
import type { PrismaClient, SandboxCharge } from '../../generated/prisma/client.js';
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

const DECLINES: Record<string, string> = {
  card_declined: 'The card was declined.',
  insufficient_funds: 'The card has insufficient funds.',
  invalid_token: 'The payment token is not valid.',
  invalid_amount: 'The amount is not one the card can be charged.',
  authorization_voided: 'The authorization made under this key was voided; check out again with a new key.',
};

function resultOf(charge: SandboxCharge): AuthorizeResult {
  // A processor answers a replayed request with the authorization as it is now: a voided one charges nothing more.
  if (charge.status === 'declined' || (charge.voided && charge.captured === 0)) {
    const code = charge.status === 'declined' ? (charge.declineCode ?? 'card_declined') : 'authorization_voided';
    return { status: 'declined', code, message: DECLINES[code] ?? 'The card was declined.' };
  }
  return { status: charge.status === 'pending' ? 'pending' : 'authorized', reference: charge.reference };
}

function decide(amount: number, token: string): { status: string; declineCode?: string } {
  if (!Number.isInteger(amount) || amount < 1 || amount > MAX_AMOUNT) {
    return { status: 'declined', declineCode: 'invalid_amount' };
  }
  switch (token) {
    case 'tok_visa':
    case 'tok_mastercard':
    case 'tok_transient_error':
      return { status: 'authorized' };
    case 'tok_requires_action':
      return { status: 'pending' };
    case 'tok_card_declined':
      return { status: 'declined', declineCode: 'card_declined' };
    case 'tok_insufficient_funds':
      return { status: 'declined', declineCode: 'insufficient_funds' };
    default:
      return { status: 'declined', declineCode: 'invalid_token' };
  }
}

export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';

  constructor(
    private readonly prisma: PrismaClient,
    private readonly webhookSecret: string,
  ) {}

  async authorize({ amount, token, idempotencyKey }: AuthorizeRequest): Promise<AuthorizeResult> {
    const known = await this.lookup(idempotencyKey);
    if (known) return known;
    if (token === 'tok_transient_error' && (await this.firstTime(`transient:${idempotencyKey}`))) {
      throw new TransientPaymentError('sandbox: simulated processor timeout');
    }
    const decision = decide(amount, token);
    await this.prisma.sandboxCharge.createMany({
      data: [{ idempotencyKey, reference: `sandbox_${randomUUID()}`, amount, ...decision }],
      skipDuplicates: true, // a concurrent request with the same key got there first: its answer stands
    });
    return (await this.lookup(idempotencyKey))!;
  }

  async lookup(idempotencyKey: string): Promise<AuthorizeResult | null> {
    const charge = await this.prisma.sandboxCharge.findUnique({ where: { idempotencyKey } });
    return charge && resultOf(charge);
  }

  capture({ reference, amount, final, idempotencyKey }: PaymentOperationRequest & { final: boolean }) {
    return this.operate(idempotencyKey, reference, { captured: { increment: amount }, ...(final && { voided: true }) });
  }

  void({ reference, idempotencyKey }: Omit<PaymentOperationRequest, 'amount'>) {
    return this.operate(idempotencyKey, reference, { voided: true });
  }

  refund({ reference, amount, idempotencyKey }: PaymentOperationRequest) {
    return this.operate(idempotencyKey, reference, { refunded: { increment: amount } });
  }

  async operationDone(idempotencyKey: string): Promise<boolean> {
    return Boolean(await this.prisma.sandboxRequest.findUnique({ where: { key: `operation:${idempotencyKey}` } }));
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
      !Number.isInteger(amount) ||
      amount! < 0 ||
      amount! > MAX_AMOUNT
    ) {
      throw new InvalidWebhookError('not a payment event');
    }
    return { id, type: type!, reference, amount: amount! };
  }

  /** Applies an operation once per idempotency key, as a processor does. */
  private async operate(idempotencyKey: string, reference: string, change: object): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.sandboxRequest.createMany({
        data: [{ key: `operation:${idempotencyKey}` }],
        skipDuplicates: true,
      });
      if (count) await tx.sandboxCharge.updateMany({ where: { reference }, data: change });
    });
  }

  private async firstTime(key: string): Promise<boolean> {
    const { count } = await this.prisma.sandboxRequest.createMany({ data: [{ key }], skipDuplicates: true });
    return count === 1;
  }
}
