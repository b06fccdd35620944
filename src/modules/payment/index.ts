// What other modules may use of payments: the service, the processor interface and its errors.
export { TransientPaymentError, type AuthorizeResult, type PaymentProvider } from './provider.js';
export { PaymentService } from './service.js';
