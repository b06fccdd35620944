import { describe, expect, it } from 'vitest';
import { financialStatusOf, fulfillmentStatusOf } from './derive.js';
import { canMove, FINANCIAL_STATUS, FULFILLMENT_STATUS, ORDER_STATUS, SHIPMENT_STATUS } from './stateMachines.js';

const MACHINES = [
  ['STATUS', ORDER_STATUS],
  ['FINANCIAL', FINANCIAL_STATUS],
  ['FULFILLMENT', FULFILLMENT_STATUS],
  ['SHIPMENT', SHIPMENT_STATUS],
] as const;

describe('the order state machines', () => {
  it.each(MACHINES)('%s allows exactly the moves its table lists', (kind, table) => {
    const states = Object.keys(table);
    for (const from of states) {
      for (const to of states) {
        expect([from, to, canMove(kind, from, to)]).toEqual([
          from,
          to,
          (table as unknown as Record<string, string[]>)[from]!.includes(to),
        ]);
      }
    }
  });

  it('ends in CANCELLED, CLOSED, ABANDONED, REFUNDED, VOIDED and DELIVERED', () => {
    for (const end of ['CLOSED', 'CANCELLED', 'ABANDONED'] as const) expect(ORDER_STATUS[end]).toEqual([]);
    expect(FINANCIAL_STATUS.REFUNDED).toEqual([]);
    expect(FINANCIAL_STATUS.VOIDED).toEqual([]);
    expect(SHIPMENT_STATUS.DELIVERED).toEqual([]);
  });

  it('never lets a checkout skip being placed, nor a cancelled order reopen', () => {
    expect(canMove('STATUS', 'CHECKOUT', 'CLOSED')).toBe(false);
    expect(canMove('STATUS', 'CANCELLED', 'OPEN')).toBe(false);
    expect(canMove('FINANCIAL', 'VOIDED', 'AUTHORIZED')).toBe(false);
    expect(canMove('SHIPMENT', 'SHIPPED', 'PACKED')).toBe(false);
  });
});

describe('statuses worked out from the payment and the lines', () => {
  const payment = (status: string, amount: number, capturedAmount = 0, refundedAmount = 0) =>
    ({ status, amount, capturedAmount, refundedAmount }) as Parameters<typeof financialStatusOf>[0];

  it.each([
    [payment('PENDING', 1000), 'PENDING'],
    [payment('AUTHORIZED', 1000), 'AUTHORIZED'],
    [payment('AUTHORIZED', 1000, 300), 'PARTIALLY_PAID'],
    [payment('CAPTURED', 1000, 1000), 'PAID'],
    [payment('CAPTURED', 1000, 600), 'PAID'],
    [payment('CAPTURED', 1000, 600, 100), 'PARTIALLY_REFUNDED'],
    [payment('CAPTURED', 1000, 600, 600), 'REFUNDED'],
    [payment('AUTHORIZED', 1000, 600, 600), 'PARTIALLY_REFUNDED'],
    [payment('VOIDED', 1000), 'VOIDED'],
    [payment('FAILED', 1000), 'VOIDED'],
    [null, 'PAID'],
  ])('%o is %s', (given, expected) => {
    expect(financialStatusOf(given)).toBe(expected);
  });

  it('counts units packed against units left to ship, refunded ones taken off', () => {
    const line = (quantity: number, fulfilledQuantity: number, removedQuantity = 0) => ({
      quantity,
      fulfilledQuantity,
      removedQuantity,
    });
    expect(fulfillmentStatusOf([line(2, 0), line(1, 0)])).toBe('UNFULFILLED');
    expect(fulfillmentStatusOf([line(2, 1), line(1, 0)])).toBe('PARTIALLY_FULFILLED');
    expect(fulfillmentStatusOf([line(2, 2), line(1, 1)])).toBe('FULFILLED');
    expect(fulfillmentStatusOf([line(3, 2, 1)])).toBe('FULFILLED');
  });
});
