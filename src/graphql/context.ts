import type { PrismaClient } from '../db/client.js';
import type { Viewer } from '../auth/viewer.js';
import type { Logger } from '../logger.js';
import { createCatalogLoaders } from '../modules/catalog/loaders.js';
import { CatalogService } from '../modules/catalog/service.js';

/** What the server builds once and shares across requests. */
export interface AppServices {
  prisma: PrismaClient;
  storeCurrency: string;
}

/** Per-request state: who is asking, the request's DataLoaders (fresh per request, so no data leaks between
 * viewers), and the domain services. */
export interface Context {
  viewer: Viewer;
  logger: Logger;
  loaders: ReturnType<typeof createLoaders>;
  catalog: CatalogService;
  storeCurrency: string;
}

const createLoaders = (prisma: PrismaClient) => ({ ...createCatalogLoaders(prisma) });

export function createContext(app: AppServices, viewer: Viewer, logger: Logger): Context {
  const loaders = createLoaders(app.prisma);
  return {
    viewer,
    logger,
    loaders,
    catalog: new CatalogService(app.prisma, app.storeCurrency),
    storeCurrency: app.storeCurrency,
  };
}
