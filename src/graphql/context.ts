import type { GraphQLError } from 'graphql';
import type { AccessTokens } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import type { PrismaClient } from '../db/client.js';
import { onPrimary } from '../db/replicas.js';
import type { Logger } from '../logger.js';
import type { AccountService } from '../modules/account/accountService.js';
import type { AuthService } from '../modules/account/authService.js';
import { createAccountLoaders } from '../modules/account/loaders.js';
import { Sessions } from '../modules/account/sessions.js';
import type { AuditLogService } from '../modules/audit/service.js';
import { createCatalogLoaders } from '../modules/catalog/loaders.js';
import { createCartLoaders } from '../modules/cart/loaders.js';
import type { CartService } from '../modules/cart/service.js';
import type { CatalogService } from '../modules/catalog/service.js';
import type { InventoryService } from '../modules/inventory/index.js';
import type { CheckoutService } from '../modules/checkout/service.js';
import { createOrderLoaders } from '../modules/order/loaders.js';
import type { OrderService } from '../modules/order/index.js';
import type { OrderStatusBus } from '../modules/order/statusBus.js';
import type { PaymentProvider } from '../modules/payment/provider.js';
import type { PaymentService } from '../modules/payment/service.js';
import type { PaymentWebhooks } from '../modules/payment/webhooks.js';

/** What the composition root (src/runtime.ts) builds once and every transport shares: configuration the resolvers
 * read, the token signer, and every domain service, each made with all it depends on. */
export interface AppServices {
  prisma: PrismaClient;
  storeCurrency: string;
  accessTokens: AccessTokens;
  paymentProviders: ReadonlyMap<string, PaymentProvider>;
  orderStatusBus: OrderStatusBus;
  sessions: Sessions;
  catalog: CatalogService;
  auth: AuthService;
  accounts: AccountService;
  inventory: InventoryService;
  carts: CartService;
  checkout: CheckoutService;
  orders: OrderService;
  payments: PaymentService;
  paymentWebhooks: PaymentWebhooks;
  auditLog: AuditLogService;
}

export const createLoaders = (prisma: PrismaClient) => ({
  ...createCatalogLoaders(prisma),
  ...createAccountLoaders(prisma),
  ...createCartLoaders(prisma),
  ...createOrderLoaders(prisma),
});

/** Per-request state: who is asking and from where, the request's DataLoaders (fresh per request, so no data leaks
 * between viewers) and its logger, beside the shared services. */
export interface Context extends Omit<AppServices, 'prisma' | 'accessTokens' | 'paymentProviders' | 'paymentWebhooks'> {
  /** Anonymous (null) until `authenticate` has run: an HTTP request checks its session only once its operation has
   * passed every limit, so that a refused request costs no database query. Execution always comes after. Fixed
   * from then on: the viewer an operation starts with authorizes every field of it, and signing in mid-operation
   * (logIn, customerSignUp) does not change it. */
  readonly viewer: Viewer;
  authenticate(this: Context): Promise<Viewer>;
  clientAddress: string;
  logger: Logger;
  /** Set when the operation has run past OPERATION_TIMEOUT_MS: the error every further field answers with. */
  stopped: GraphQLError | null;
  loaders: ReturnType<typeof createLoaders>;
  /** Replaces the loaders with fresh ones: a subscription reads each pushed change anew. */
  refreshLoaders(this: Context): void;
}

/** Sessions on the primary: a session just started (log in, refresh) must be found by the very next request. */
export const createSessions = (prisma: PrismaClient, accessTokens: AccessTokens, refreshTokenTtlDays: number) =>
  new Sessions(onPrimary(prisma), accessTokens, refreshTokenTtlDays);

export function createContext(
  app: AppServices,
  request: { findViewer: () => Promise<Viewer>; clientAddress: string; logger: Logger },
): Context {
  const {
    prisma: _prisma,
    accessTokens: _tokens,
    paymentProviders: _providers,
    paymentWebhooks: _webhooks,
    ...services
  } = app;
  let authenticated: Promise<Viewer> | undefined;
  return {
    ...services,
    viewer: null,
    // Apollo runs each operation on a shallow copy of the context, so the viewer is set on the copy in hand; once
    // set it is read-only, so that an assignment later in the operation fails instead of changing who acts.
    async authenticate(this: Context) {
      const viewer = await (authenticated ??= request.findViewer());
      Object.defineProperty(this, 'viewer', { value: viewer, writable: false, enumerable: true, configurable: true });
      return viewer;
    },
    clientAddress: request.clientAddress,
    logger: request.logger,
    stopped: null,
    loaders: createLoaders(app.prisma),
    refreshLoaders(this: Context) {
      this.loaders = createLoaders(app.prisma);
    },
  };
}
