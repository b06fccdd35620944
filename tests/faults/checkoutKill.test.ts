// Issue 11: an instance dies (SIGKILL: no drain, no cleanup) with checkouts in flight. 150 shoppers race for 100
// units through two instances; A is killed once 40 of them have been answered. Shoppers whose request died retry
// on B with the same idempotency key. Every shopper must end with a definite answer, no answer may take much longer
// than the operation time limit, and the database must show nothing lost, sold twice or charged without an order.
import { describe, expect, it } from 'vitest';
import {
  checkInvariants,
  checkOut,
  CLIENT_TIMEOUT_MS,
  figuresOf,
  gql,
  answersOf,
  isDefinite,
  ON_SERVER,
  OPERATION_TIMEOUT_MS,
  printOutputOnFailure,
  REDIS_URL,
  report,
  settle,
  startClock,
  type Instance,
  useDeployment,
} from './support/index.js';

const SHOPPERS = 150;
const STOCK = 100;
const KILL_AFTER_ANSWERS = 40;

describe.skipIf(!ON_SERVER || !REDIS_URL)('an instance killed mid-checkout (two instances, one database)', () => {
  const deployment = useDeployment({ stock: STOCK, shoppers: SHOPPERS });

  it(`${SHOPPERS} shoppers on ${STOCK} units, A killed after ${KILL_AFTER_ANSWERS} answers: every checkout ends, nothing is lost or sold twice`, async () => {
    printOutputOnFailure(() => deployment.instances);
    const [a, b] = deployment.instances as [Instance, Instance];
    const clock = startClock();
    let answered = 0;
    let killedAt: number | undefined;
    let inFlight: Promise<{ orders: number; attempts: number }> | undefined;

    await Promise.all(
      deployment.shoppers.map((shopper) =>
        checkOut(shopper, deployment.instances, {
          clock,
          onAnswer: (_, answer) => {
            if (answer.kind === 'network' || ++answered < KILL_AFTER_ANSWERS || killedAt !== undefined) return;
            killedAt = clock.now();
            a.kill('SIGKILL');
            // What was mid-checkout at that moment (on either instance): A's share is left for B to finish.
            inFlight = deployment.db
              .query<{ orders: number; attempts: number }>(
                `SELECT (SELECT count(*)::int FROM "order" WHERE status = 'CHECKOUT') AS orders,
                        (SELECT count(*)::int FROM checkout_attempt WHERE finished_at IS NULL) AS attempts`,
              )
              .then(({ rows }) => rows[0]!);
          },
        }),
      ),
    );
    const loadMs = clock.now();
    await a.whenExited;
    const settled = await settle(deployment.db);
    const { violations, figures } = await checkInvariants(deployment.db, deployment.shoppers, [deployment.variant]);

    const told = figuresOf(deployment.shoppers);
    const hit = deployment.shoppers.filter((s) => s.answers.some((answer) => answer.kind === 'network'));
    const afterKill = deployment.shoppers
      .flatMap((s) => s.answers)
      .filter((answer) => answer.at >= (killedAt ?? Infinity));
    report('checkout under SIGKILL', {
      ...told,
      kills: `1 (A, at ${killedAt} ms, after ${KILL_AFTER_ANSWERS} answers)`,
      'hit by the kill': hit.length,
      'mid-checkout at the kill': inFlight ? JSON.stringify(await inFlight) : '-',
      'load took': `${loadMs} ms`,
      settled: `${settled.settled} after ${settled.waitedMs} ms`,
      'visible paid orders': figures.visiblePaidOrders,
      'live / voided authorizations': `${figures.liveAuthorizations} / ${figures.voidedAuthorizations}`,
      stock: figures.stock.map((s) => `${s.onHand} on hand + ${s.sold} sold of ${s.initial}, ${s.reserved} reserved`),
      violations: violations.length,
    });

    expect(killedAt, 'A was killed while the load was in flight').toBeDefined();
    expect(a.exitSignal).toBe('SIGKILL');
    expect(hit.length, 'some requests died with A').toBeGreaterThan(0);
    expect(violations).toEqual([]);
    // Every shopper was told something definite (an order, or a refusal), within its 30 s of retries.
    expect(deployment.shoppers.filter((s) => !isDefinite(s.final)).map(answersOf)).toEqual([]);
    // B answered every retry sent to it after the kill, and no answer took much longer than the operation limit.
    expect(afterKill.filter((answer) => answer.instance === b.name && answer.kind === 'network')).toEqual([]);
    const slow = deployment.shoppers
      .flatMap((s) => s.answers)
      .filter((answer) => answer.kind !== 'network' && answer.ms > OPERATION_TIMEOUT_MS + 1_000);
    expect(slow).toEqual([]);
    expect(told.network.CLIENT_TIMEOUT ?? 0, `requests unanswered for ${CLIENT_TIMEOUT_MS} ms`).toBe(0);
    // What the shoppers were told is what the database holds.
    expect(told.paid).toBeLessThanOrEqual(STOCK);
    expect(told.paid).toBe(figures.visiblePaidOrders);
    expect(figures.stock[0]!.sold).toBe(told.paid);
    // B is alive and serving.
    expect(b.exited).toBe(false);
    expect(await gql(b, '{ products(first: 1) { totalCount } }')).toEqual({
      products: { totalCount: expect.any(Number) },
    });
  }, 85_000);
});
