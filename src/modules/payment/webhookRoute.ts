// POST /webhooks/payments/:provider: the raw body is verified by the provider (signature, freshness) before
// anything is parsed or applied; duplicates are acknowledged and ignored.
import express, { type Router } from 'express';
import { InvalidWebhookError, type PaymentProvider } from './provider.js';
import { RetryLater, type PaymentWebhooks } from './webhooks.js';

export function paymentWebhookRouter(
  providers: ReadonlyMap<string, PaymentProvider>,
  webhooks: PaymentWebhooks,
): Router {
  const router = express.Router();
  router.post('/webhooks/payments/:provider', express.raw({ type: '*/*', limit: '256kb' }), async (req, res) => {
    const provider = providers.get(req.params.provider);
    if (!provider) {
      res.status(404).json({ error: 'unknown provider' });
      return;
    }
    let event;
    try {
      event = provider.verifyWebhook(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.headers);
    } catch (error) {
      if (!(error instanceof InvalidWebhookError)) throw error;
      req.log.warn({ provider: provider.name, reason: error.message }, 'webhook rejected');
      res.status(400).json({ error: 'invalid webhook' });
      return;
    }
    try {
      const applied = await webhooks.apply(provider.name, event);
      res.json({ received: true, duplicate: !applied });
    } catch (error) {
      if (!(error instanceof RetryLater)) throw error;
      // Processors deliver again after a failure; 503 with Retry-After says it is worth doing.
      res.status(503).set('retry-after', '5').json({ error: 'not ready for this event yet; deliver it again' });
    }
  });
  return router;
}
