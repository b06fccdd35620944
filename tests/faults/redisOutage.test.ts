// Issue 11: Redis goes away for about 10 s while customers check out on two instances, and comes back. Redis is a
// private redis-server of this file's own (killing it disturbs no other test). Whatever a checkout answers while
// Redis is down, a checkout told PAID must not lose what follows from it: once Redis is back, without restarting
// either instance, every paid order's confirmation email is sent exactly once, and a customer subscribed (over
// graphql-ws) to its order on the instance that did NOT take the checkout hears that the order is AUTHORIZED.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import {
  checkInvariants,
  checkOut,
  databaseId,
  deploymentEnv,
  figuresOf,
  gql,
  answersOf,
  isDefinite,
  ON_SERVER,
  openPool,
  prepareShoppers,
  printOutputOnFailure,
  REDIS_URL,
  redisServerInstalled,
  report,
  seedStoreSettings,
  seedVariant,
  settle,
  sleep,
  startClock,
  startInstances,
  startRedisServer,
  tally,
  waitFor,
  type Instance,
  type RedisServer,
  type Shopper,
  type Variant,
} from './support/index.js';

const SHOPPERS = 20;
const OUTAGE_MS = 10_000;
/** How long after Redis is back the emails and events may take. */
const CATCH_UP_MS = 20_000;

const SUBSCRIPTION = `subscription ($orderId: ID!) {
  orderStatusChanged(orderId: $orderId) { id status financialStatus } }`;

interface Subscriber {
  shopper: Shopper;
  orderId: string;
  on: string;
  received: { data?: { orderStatusChanged: { id: string; financialStatus: string } }; errors?: unknown }[];
  failed?: string;
}

describe.skipIf(!ON_SERVER || !REDIS_URL || !redisServerInstalled())('a Redis outage during checkout', () => {
  let database: TestDatabase;
  let db: ReturnType<typeof openPool>;
  let redis: RedisServer;
  let instances: Instance[] = [];
  let variant: Variant;
  let shoppers: Shopper[];
  const clients: Client[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    database = await createTestDatabase();
    db = openPool(database.url);
    instances = await startInstances(deploymentEnv(database.url, { REDIS_URL: redis.url }));
    await seedStoreSettings(db);
    variant = await seedVariant(db, 100);
    // Customers (a token each, for the cart and for the subscription), signed up while Redis is still there.
    shoppers = await prepareShoppers(instances, variant, SHOPPERS, { customers: true, parallel: 8 });
  });
  afterAll(async () => {
    await Promise.all(clients.map(async (client) => client.dispose()));
    await Promise.all(instances.map((instance) => instance.stop()));
    await redis?.kill();
    await db?.end();
    await database?.drop();
  });

  /** Subscribes the shopper to its order's changes on `instance`. */
  function subscribe(shopper: Shopper, orderId: string, instance: Instance): Subscriber {
    const subscriber: Subscriber = { shopper, orderId, on: instance.name, received: [] };
    const client = createClient({
      url: instance.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${shopper.token}` },
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    client.subscribe(
      { query: SUBSCRIPTION, variables: { orderId } },
      {
        next: (value) => subscriber.received.push(value as Subscriber['received'][number]),
        error: (error) => (subscriber.failed = JSON.stringify(error)),
        complete: () => (subscriber.failed ??= 'completed'),
      },
    );
    return subscriber;
  }

  it(`checkouts through a ${OUTAGE_MS / 1000} s Redis outage: every paid order is confirmed once and its event reaches the other instance`, async () => {
    printOutputOnFailure(() => instances);
    const clock = startClock();
    const subscribers: Subscriber[] = [];

    await redis.kill();
    const outageFrom = clock.now();
    let outageTo = Infinity;
    const restart = (async () => {
      await sleep(OUTAGE_MS);
      await redis.start();
      outageTo = clock.now();
    })();
    // The shoppers arrive one after another through the outage, alternating between the instances.
    const gap = (OUTAGE_MS - 1_000) / SHOPPERS;
    await Promise.all(
      shoppers.map(async (shopper, i) => {
        await sleep(i * gap);
        await checkOut(shopper, instances, { clock });
        const final = shopper.final;
        // Told PAID while Redis is down (with time to spare): subscribe on the instance that did not take the
        // checkout. The order's change is then still to be delivered there, which takes Redis.
        if (final?.kind === 'paid' && clock.now() < outageFrom + OUTAGE_MS - 1_500) {
          const other = instances.find((instance) => instance.name !== final.instance)!;
          subscribers.push(subscribe(shopper, final.order!.id, other));
        }
      }),
    );
    await restart;
    const restartedAt = clock.now();

    const paid = shoppers.filter((s) => s.final?.kind === 'paid');
    const emails = async () => {
      const { rows } = await db.query<{ to: string; subject: string; sent_at: Date | null }>(
        `SELECT "to", subject, sent_at FROM outbox_email WHERE subject LIKE 'Order #% confirmed%'`,
      );
      return rows;
    };
    const confirmationsOf = (rows: Awaited<ReturnType<typeof emails>>, shopper: Shopper) =>
      rows.filter(
        (row) => row.to === shopper.email && row.subject === `Order #${shopper.final!.order!.number} confirmed`,
      );
    const heard = (subscriber: Subscriber) =>
      subscriber.received.some(
        (value) =>
          value.data?.orderStatusChanged.id === subscriber.orderId &&
          value.data.orderStatusChanged.financialStatus === 'AUTHORIZED',
      );
    const caughtUp = await waitFor(async () => {
      const rows = await emails();
      const mailed = paid.every((s) => confirmationsOf(rows, s).some((row) => row.sent_at));
      return mailed && subscribers.every(heard);
    }, CATCH_UP_MS);
    const caughtUpAt = clock.now();
    await sleep(1_000); // a duplicate would come late: give it the chance to show
    const rows = await emails();
    const settled = await settle(db);
    const { violations, figures } = await checkInvariants(db, shoppers, [variant]);

    const during = shoppers.flatMap((s) => s.answers).filter((a) => a.at >= outageFrom && a.at < outageTo);
    const told = figuresOf(shoppers);
    report('checkout through a Redis outage', {
      ...told,
      outage: `${outageFrom}–${outageTo} ms (${OUTAGE_MS} ms)`,
      'answers during the outage': tally(during.map((a) => (a.kind === 'paid' ? 'PAID' : `${a.kind} ${a.detail}`))),
      'paid during the outage': shoppers.filter((s) => s.final?.kind === 'paid' && s.final.at < outageTo).length,
      subscribers: `${subscribers.length} (${subscribers.filter(heard).length} heard AUTHORIZED, ${
        subscribers.filter((s) => s.failed).length
      } failed)`,
      'confirmation emails': `${rows.length} rows, ${rows.filter((row) => row.sent_at).length} sent`,
      'caught up': caughtUp ? `${caughtUpAt - restartedAt} ms after Redis was back` : `no, after ${CATCH_UP_MS} ms`,
      settled: `${settled.settled} after ${settled.waitedMs} ms`,
      violations: violations.length,
    });

    // Neither instance died or was restarted.
    expect(instances.map((instance) => [instance.name, instance.exited])).toEqual(
      instances.map((instance) => [instance.name, false]),
    );
    expect(violations).toEqual([]);
    expect(shoppers.filter((s) => !isDefinite(s.final)).map(answersOf)).toEqual([]);
    expect(told.paid).toBe(figures.visiblePaidOrders);
    // Every paid order: one confirmation, to its customer, sent; and nobody else got one.
    expect(
      paid
        .map((s) => ({ n: s.n, confirmations: confirmationsOf(rows, s).map((row) => Boolean(row.sent_at)) }))
        .filter(({ confirmations }) => confirmations.length !== 1 || !confirmations[0]),
    ).toEqual([]);
    expect(rows).toHaveLength(paid.length);
    // The event path was exercised, and every subscriber heard its order's authorization from the other instance.
    expect(subscribers.length, 'checkouts told PAID while Redis was down').toBeGreaterThan(0);
    expect(
      subscribers
        .filter((s) => !heard(s))
        .map((s) => ({ n: s.shopper.n, order: databaseId(s.orderId), on: s.on, failed: s.failed, got: s.received })),
    ).toEqual([]);
    // Both instances serve again.
    for (const instance of instances) {
      expect(await gql(instance, '{ viewer { email } }', {}, shoppers[0]!.token)).toEqual({
        viewer: { email: shoppers[0]!.email },
      });
    }
  }, 85_000);

  it('keeps signing in, signing up, reset requests and order lookups going while Redis is down (throttles fall back to memory)', async () => {
    printOutputOnFailure(() => instances);
    await redis.kill();
    try {
      for (const [n, instance] of instances.entries()) {
        const email = `outage-${n}-${Date.now()}@example.test`;
        const signedUp = await gql(
          instance,
          'mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { userErrors { code } } }',
          { input: { email, password: 'a long enough passphrase 9', firstName: 'Red', lastName: 'Is' } },
        );
        expect(signedUp.customerSignUp.userErrors).toEqual([]);
        const wrong = await gql(
          instance,
          'mutation ($input: LogInInput!) { logIn(input: $input) { userErrors { code } } }',
          { input: { email, password: 'not the passphrase at all' } },
        );
        expect(wrong.logIn.userErrors.map((e: { code: string }) => e.code)).toEqual(['INVALID_CREDENTIALS']);
        const reset = await gql(
          instance,
          'mutation ($input: PasswordResetRequestInput!) { passwordResetRequest(input: $input) { userErrors { code } } }',
          { input: { email } },
        );
        expect(reset.passwordResetRequest.userErrors).toEqual([]);
        expect(await gql(instance, '{ orderByNumber(number: 999999, email: "nobody@example.test") { id } }')).toEqual({
          orderByNumber: null,
        });
      }
    } finally {
      await redis.start();
    }
  }, 30_000);
});
