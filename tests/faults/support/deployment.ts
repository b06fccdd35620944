// A deployment for one fault test file: a fresh database, two production instances over it and the machine's
// Redis, the store's settings, one variant with `stock` units, and `shoppers` carts ready to check out (built on
// both instances before any fault starts). Torn down after the file.
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/testDatabase.js';
import { openPool, seedStoreSettings, seedVariant, type Variant } from './database.js';
import { deploymentEnv, startInstances, type Instance } from './processes.js';
import { prepareShoppers, type Shopper } from './shoppers.js';

export interface Deployment {
  database: TestDatabase;
  db: ReturnType<typeof openPool>;
  instances: Instance[];
  variant: Variant;
  shoppers: Shopper[];
}

/** Registers the file's beforeAll and afterAll; the deployment is filled in once beforeAll has run. */
export function useDeployment({ stock, shoppers }: { stock: number; shoppers: number }): Deployment {
  const deployment = { instances: [] as Instance[] } as Deployment;
  beforeAll(async () => {
    deployment.database = await createTestDatabase();
    deployment.db = openPool(deployment.database.url);
    deployment.instances = await startInstances(deploymentEnv(deployment.database.url));
    await seedStoreSettings(deployment.db);
    deployment.variant = await seedVariant(deployment.db, stock);
    deployment.shoppers = await prepareShoppers(deployment.instances, deployment.variant, shoppers);
  });
  afterAll(async () => {
    await Promise.all(deployment.instances.map((instance) => instance.stop()));
    await deployment.db?.end();
    await deployment.database?.drop();
  });
  return deployment;
}
