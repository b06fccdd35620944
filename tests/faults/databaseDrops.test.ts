// Issue 11: the database drops every connection, again and again, while shoppers check out. From an admin
// connection, every backend of the test database is terminated every 250 ms for 5 s, while 60 shoppers check out in
// bursts through two instances; then the faults stop and the shoppers' retries (same key) run their course. Neither
// process may die, every checkout must reach a final state, and the database must add up.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  adminDatabaseUrl,
  checkInvariants,
  checkOut,
  databaseName,
  figuresOf,
  gql,
  answersOf,
  isDefinite,
  ON_SERVER,
  printOutputOnFailure,
  REDIS_URL,
  report,
  settle,
  sleep,
  startClock,
  terminateBackends,
  useDeployment,
} from './support/index.js';

const SHOPPERS = 60;
const BURSTS = 6;
const STOCK = 100;
const FAULT_EVERY_MS = 250;
const FAULTS_FOR_MS = 5_000;

describe.skipIf(!ON_SERVER || !REDIS_URL)('database connections terminated under load (two instances)', () => {
  const deployment = useDeployment({ stock: STOCK, shoppers: SHOPPERS });

  it(`${SHOPPERS} shoppers in ${BURSTS} bursts while every connection is terminated every ${FAULT_EVERY_MS} ms for ${FAULTS_FOR_MS / 1000} s`, async () => {
    printOutputOnFailure(() => deployment.instances);
    const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    const clock = startClock();
    let rounds = 0;
    let terminated = 0;
    try {
      const faults = (async () => {
        while (clock.now() < FAULTS_FOR_MS) {
          terminated += await terminateBackends(admin, databaseName(deployment.database.url));
          rounds++;
          await sleep(FAULT_EVERY_MS);
        }
      })();
      // The bursts all start inside the fault window; each shopper retries (same key) until it has a final answer.
      const perBurst = SHOPPERS / BURSTS;
      const gap = (FAULTS_FOR_MS - 1_000) / BURSTS;
      const checkouts = deployment.shoppers.map(async (shopper, i) => {
        await sleep(Math.floor(i / perBurst) * gap);
        return checkOut(shopper, deployment.instances, { clock });
      });
      await faults;
      await Promise.all(checkouts);
    } finally {
      await admin.end();
    }
    const loadMs = clock.now();
    const settled = await settle(deployment.db);
    const { violations, figures } = await checkInvariants(deployment.db, deployment.shoppers, [deployment.variant]);
    const told = figuresOf(deployment.shoppers);
    report('checkout while the database drops its connections', {
      ...told,
      faults: `${rounds} rounds, ${terminated} backends terminated in ${FAULTS_FOR_MS} ms`,
      'load took': `${loadMs} ms`,
      settled: `${settled.settled} after ${settled.waitedMs} ms`,
      'visible paid orders': figures.visiblePaidOrders,
      'live / voided authorizations': `${figures.liveAuthorizations} / ${figures.voidedAuthorizations}`,
      stock: figures.stock.map((s) => `${s.onHand} on hand + ${s.sold} sold of ${s.initial}, ${s.reserved} reserved`),
      violations: violations.length,
    });

    expect(terminated, 'the faults hit the servers').toBeGreaterThan(0);
    expect(deployment.instances.map((instance) => [instance.name, instance.exited])).toEqual(
      deployment.instances.map((instance) => [instance.name, false]),
    );
    expect(violations).toEqual([]);
    expect(deployment.shoppers.filter((s) => !isDefinite(s.final)).map(answersOf)).toEqual([]);
    expect(told.paid).toBe(figures.visiblePaidOrders);
    // Both instances serve again, reading the database, without a restart.
    for (const instance of deployment.instances) {
      expect(await gql(instance, '{ products(first: 1) { totalCount } }')).toEqual({
        products: { totalCount: expect.any(Number) },
      });
    }
  }, 85_000);
});
