import type { LoginThrottle } from '../auth/loginThrottle.js';
import type { AccessTokens } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import type { PrismaClient } from '../db/client.js';
import { onPrimary } from '../db/replicas.js';
import type { Logger } from '../logger.js';
import { AccountService } from '../modules/account/accountService.js';
import { AuthService } from '../modules/account/authService.js';
import { createAccountLoaders } from '../modules/account/loaders.js';
import { Sessions } from '../modules/account/sessions.js';
import { AuditLogService } from '../modules/audit/service.js';
import { createCatalogLoaders } from '../modules/catalog/loaders.js';
import { createCartLoaders } from '../modules/cart/loaders.js';
import { CartService } from '../modules/cart/service.js';
import { CatalogService } from '../modules/catalog/service.js';
import { InventoryService } from '../modules/inventory/service.js';
import { CheckoutService } from '../modules/checkout/service.js';
import { createOrderLoaders } from '../modules/order/loaders.js';
import { OrderService } from '../modules/order/service.js';
import type { OrderStatusBus } from '../modules/order/statusBus.js';
import type { PaymentProvider } from '../modules/payment/provider.js';
import { PaymentService } from '../modules/payment/service.js';

/** What the server builds once and shares across requests. */
export interface AppServices {
  prisma: PrismaClient;
  storeCurrency: string;
  accessTokens: AccessTokens;
  loginThrottle: LoginThrottle;
  refreshTokenTtlDays: number;
  paymentProviders: ReadonlyMap<string, PaymentProvider>;
  reservationMinutes: number;
  orderStatusBus: OrderStatusBus;
}

const createLoaders = (prisma: PrismaClient) => ({
  ...createCatalogLoaders(prisma),
  ...createAccountLoaders(prisma),
  ...createCartLoaders(prisma),
  ...createOrderLoaders(prisma),
});

/** Per-request state: who is asking and from where, the request's DataLoaders (fresh per request, so no data leaks
 * between viewers), and the domain services. */
export interface Context {
  /** Anonymous (null) until `authenticate` has run: an HTTP request checks its session only once its operation has
   * passed every limit, so that a refused request costs no database query. Execution always comes after. */
  viewer: Viewer;
  authenticate(this: Context): Promise<Viewer>;
  clientAddress: string;
  logger: Logger;
  loaders: ReturnType<typeof createLoaders>;
  storeCurrency: string;
  catalog: CatalogService;
  sessions: Sessions;
  auth: AuthService;
  accounts: AccountService;
  inventory: InventoryService;
  carts: CartService;
  checkout: CheckoutService;
  orders: OrderService;
  payments: PaymentService;
  orderStatusBus: OrderStatusBus;
  auditLog: AuditLogService;
}

/** Sessions on the primary: a session just started (log in, refresh) must be found by the very next request. */
export const createSessions = (app: AppServices) =>
  new Sessions(onPrimary(app.prisma), app.accessTokens, app.refreshTokenTtlDays);

export function createContext(
  app: AppServices,
  request: { findViewer: () => Promise<Viewer>; clientAddress: string; logger: Logger },
): Context {
  const sessions = createSessions(app);
  let authenticated: Promise<Viewer> | undefined;
  const context: Context = {
    viewer: null,
    // Apollo runs each operation on a shallow copy of the context, so the viewer is set on the copy in hand.
    async authenticate(this: Context) {
      this.viewer = await (authenticated ??= request.findViewer());
      return this.viewer;
    },
    clientAddress: request.clientAddress,
    logger: request.logger,
    loaders: createLoaders(app.prisma),
    storeCurrency: app.storeCurrency,
    catalog: new CatalogService(app.prisma, app.storeCurrency),
    sessions,
    auth: new AuthService(app.prisma, sessions, app.loginThrottle),
    accounts: new AccountService(app.prisma, sessions),
    inventory: new InventoryService(app.prisma),
    carts: new CartService(app.prisma),
    checkout: new CheckoutService(
      app.prisma,
      app.paymentProviders,
      app.storeCurrency,
      app.reservationMinutes,
      app.orderStatusBus,
    ),
    orders: new OrderService(app.prisma, app.orderStatusBus),
    orderStatusBus: app.orderStatusBus,
    payments: new PaymentService(app.prisma, app.paymentProviders, request.logger, app.orderStatusBus),
    auditLog: new AuditLogService(app.prisma),
  };
  return context;
}
