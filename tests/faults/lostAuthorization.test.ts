// Issue 11: the gap between the processor authorizing a payment and the database recording it. Triggers driven by
// rows in `fault_switch` fail or stall the write that records an authorization on `payment`, or slow the processor
// down (its ledger, `sandbox_charge`, lives in the same database):
// 1. the recording fails once: the recovery worker must find the authorization at the processor and complete the
//    order, and the shopper's retry (same key) gets that order;
// 2. the processor answers only after the checkout's lease ran out and the recovery gave the checkout up (it found
//    no authorization): the order can no longer be completed, so the late authorization must be voided, nothing
//    sold, and the shopper's retry (same key) gets a definite failure;
// 3. the instance is SIGKILLed right after the processor authorized (the recording stalled): the other instance's
//    recovery completes the order, and the retry gets it there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import {
  CHECKOUT_LEASE_MS,
  chargesByKey,
  checkInvariants,
  checkOut,
  answersOf,
  databaseId,
  deploymentEnv,
  isDefinite,
  ON_SERVER,
  openPool,
  prepareShoppers,
  printOutputOnFailure,
  RECOVERY_INTERVAL_MS,
  REDIS_URL,
  report,
  seedStoreSettings,
  seedVariant,
  settle,
  startInstances,
  stockOf,
  visibleOrdersOf,
  waitFor,
  type Answer,
  type Charge,
  type Instance,
  type Shopper,
  type Variant,
} from './support/index.js';

/** The recovery of a stale checkout: once its lease has run out, at the next round of the worker, plus slack. */
const RECOVERY_WITHIN_MS = CHECKOUT_LEASE_MS + RECOVERY_INTERVAL_MS + 3_000;
/** How long the trigger holds the recording in case 3 (under the servers' 5 s statement timeout). */
const STALL_SECONDS = 4;
/** How long the processor takes in case 2: well past the lease, under the statement timeout set below. */
const SLOW_PROCESSOR_SECONDS = 6;
const STATEMENT_TIMEOUT_MS = 10_000;
const STOCK = 10;

const FAULT_TRIGGERS = `
CREATE TABLE fault_switch (mode text PRIMARY KEY);
CREATE FUNCTION fault_on_authorization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'AUTHORIZED' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'AUTHORIZED') THEN
    IF EXISTS (SELECT 1 FROM fault_switch WHERE mode = 'fail') THEN
      RAISE EXCEPTION 'injected fault: recording the authorization failed';
    END IF;
    IF EXISTS (SELECT 1 FROM fault_switch WHERE mode = 'stall') THEN
      PERFORM pg_sleep(${STALL_SECONDS});
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER fault_on_authorization BEFORE INSERT OR UPDATE ON payment
  FOR EACH ROW EXECUTE FUNCTION fault_on_authorization();
CREATE FUNCTION fault_slow_processor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM fault_switch WHERE mode = 'slow-processor') THEN
    PERFORM pg_sleep(${SLOW_PROCESSOR_SECONDS});
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER fault_slow_processor BEFORE INSERT ON sandbox_charge
  FOR EACH ROW EXECUTE FUNCTION fault_slow_processor();`;

describe.skipIf(!ON_SERVER || !REDIS_URL)('an authorization the database failed to record', () => {
  let database: TestDatabase;
  let db: ReturnType<typeof openPool>;
  let instances: Instance[] = [];
  const shoppers: Shopper[] = [];
  const variants: Variant[] = [];
  const figures: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase();
    db = openPool(database.url);
    instances = await startInstances(
      deploymentEnv(database.url, { STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) }),
    );
    await seedStoreSettings(db);
    await db.query(FAULT_TRIGGERS);
  });
  afterAll(async () => {
    report('authorizations the database failed to record', figures);
    await Promise.all(instances.map((instance) => instance.stop()));
    await db?.end();
    await database?.drop();
  });

  const faultSwitch = async (mode: 'fail' | 'stall' | 'slow-processor' | null) => {
    await db.query('DELETE FROM fault_switch');
    if (mode) await db.query('INSERT INTO fault_switch (mode) VALUES ($1)', [mode]);
  };

  /** A guest with a cart of one unit of a variant of its own, starting on instance A. */
  const newShopper = async () => {
    const variant = await seedVariant(db, STOCK);
    const [shopper] = await prepareShoppers(instances, variant, 1, { label: `lost-${shoppers.length}` });
    variants.push(variant);
    shoppers.push(shopper!);
    return { shopper: shopper!, variant };
  };

  /** The authorizations the processor made since `before` was taken. */
  const newCharges = async (before: Map<string, Charge>) =>
    [...(await chargesByKey(db)).values()].filter((charge) => !before.has(charge.idempotency_key));

  const paidOrderOf = async (shopper: Shopper) =>
    (await visibleOrdersOf(db, shopper.email)).find((order) => order.financial_status === 'AUTHORIZED');

  const describeAnswer = (answer: Answer | undefined) =>
    answer ? `${answer.instance}: ${answer.kind} ${answer.detail} (${answer.ms} ms)` : 'none';

  const expectInvariants = async () => {
    const settled = await settle(db, 6_000);
    const { violations } = await checkInvariants(db, shoppers, variants);
    expect(violations, `settled: ${JSON.stringify(settled)}`).toEqual([]);
  };

  it('recording fails once: the recovery completes the order from the processor, and the retry gets it', async () => {
    printOutputOnFailure(() => instances);
    const { shopper, variant } = await newShopper();
    const before = await chargesByKey(db);
    await faultSwitch('fail');

    await checkOut(shopper, instances, { maxAttempts: 1 });
    const first = shopper.answers[0]!;
    const [charge] = await newCharges(before);
    await faultSwitch(null);
    const since = Date.now();
    figures['1. first answer'] = describeAnswer(first);

    // The client was not told PAID (its payment was not recorded); the processor did authorize.
    expect(['paid', 'order']).not.toContain(first.kind);
    expect(charge).toMatchObject({ status: 'authorized', voided: false });

    const order = await waitFor(() => paidOrderOf(shopper), RECOVERY_WITHIN_MS);
    figures['1. recovered'] = order ? `order #${order.number} after ${Date.now() - since} ms` : 'no';
    expect(order, `a visible AUTHORIZED order within ${RECOVERY_WITHIN_MS} ms`).toBeDefined();
    expect((await chargesByKey(db)).get(charge!.idempotency_key)).toMatchObject({
      status: 'authorized',
      voided: false,
    });
    expect(await stockOf(db, variant)).toEqual({ onHand: STOCK - 1, reserved: 0 });

    const retry = await checkOut({ ...shopper, answers: [] }, instances, { deadlineMs: 15_000 });
    figures['1. retry'] = describeAnswer(retry.final);
    expect(retry.final).toMatchObject({ kind: 'paid' });
    expect(databaseId(retry.final!.order!.id)).toBe(order!.id);
    shopper.answers.push(...retry.answers);
    await expectInvariants();
  }, 40_000);

  it('the processor answers after the recovery gave the checkout up: the late authorization is voided, nothing sold', async () => {
    printOutputOnFailure(() => instances);
    const { shopper, variant } = await newShopper();
    const before = await chargesByKey(db);
    await faultSwitch('slow-processor');

    // The processor holds its answer past the lease: the recovery takes the checkout over, finds no authorization
    // under its key, and abandons it. Then the authorization arrives, for an order that can no longer be placed.
    await checkOut(shopper, instances, { maxAttempts: 1 });
    await faultSwitch(null);
    const first = shopper.answers[0]!;
    figures['2. first answer'] = describeAnswer(first);
    expect(['paid', 'order']).not.toContain(first.kind);
    const [charge] = await newCharges(before);
    expect(charge, 'the processor authorized (late)').toMatchObject({ status: 'authorized' });

    const voided = await waitFor(
      async () => (await chargesByKey(db)).get(charge!.idempotency_key)?.voided,
      RECOVERY_WITHIN_MS,
      200,
    );
    figures['2. voided'] = voided ? `yes (A answered after ${first.ms} ms)` : 'no';
    expect(voided, 'the late authorization voided').toBe(true);
    await settle(db, 6_000);
    expect(await visibleOrdersOf(db, shopper.email)).toEqual([]);
    expect(await stockOf(db, variant)).toEqual({ onHand: STOCK, reserved: 0 });

    const retry = await checkOut({ ...shopper, answers: [] }, instances, { deadlineMs: 15_000 });
    figures['2. retry'] = retry.answers.map(describeAnswer).join(' → ');
    expect(isDefinite(retry.final), answersOf(retry)).toBe(true);
    expect(retry.final!.kind).toBe('refused');
    shopper.answers.push(...retry.answers);
    await expectInvariants();
  }, 50_000);

  it('the instance is killed right after the processor authorized: the other instance recovers the order', async () => {
    printOutputOnFailure(() => instances);
    const [a, b] = instances as [Instance, Instance];
    const { shopper, variant } = await newShopper();
    const before = await chargesByKey(db);
    await faultSwitch('stall');

    const pending = checkOut(shopper, instances, { maxAttempts: 1 });
    const charge = await waitFor(async () => (await newCharges(before))[0], 10_000, 20);
    a.kill('SIGKILL');
    await a.whenExited;
    const since = Date.now();
    await faultSwitch(null);
    await pending;
    const first = shopper.answers[0]!;
    figures['3. first answer'] = describeAnswer(first);
    expect(charge).toMatchObject({ status: 'authorized', voided: false });
    expect(first).toMatchObject({ instance: a.name, kind: 'network' });

    const order = await waitFor(() => paidOrderOf(shopper), STALL_SECONDS * 1_000 + RECOVERY_WITHIN_MS);
    figures['3. recovered'] = order ? `order #${order.number} after ${Date.now() - since} ms (by B)` : 'no';
    expect(order, 'a visible AUTHORIZED order, completed by B').toBeDefined();
    expect((await chargesByKey(db)).get(charge!.idempotency_key)).toMatchObject({ voided: false });
    expect(await stockOf(db, variant)).toEqual({ onHand: STOCK - 1, reserved: 0 });

    // The shopper's client finds A gone and retries on B with the same key.
    const retry = await checkOut({ ...shopper, answers: [] }, instances, { deadlineMs: 15_000 });
    figures['3. retry'] = retry.answers.map(describeAnswer).join(' → ');
    expect(retry.final).toMatchObject({ kind: 'paid', instance: b.name });
    expect(databaseId(retry.final!.order!.id)).toBe(order!.id);
    shopper.answers.push(...retry.answers);
    await expectInvariants();
    expect(b.exited).toBe(false);
  }, 50_000);
});
