import { describe, expect, it } from 'vitest';
import { canMove, TRANSITIONS } from './stateMachine.js';

describe('order state machine', () => {
  it('follows the happy path and nothing skips a step', () => {
    expect(canMove('PENDING_PAYMENT', 'PAID')).toBe(true);
    expect(canMove('PAID', 'FULFILLED')).toBe(true);
    expect(canMove('FULFILLED', 'SHIPPED')).toBe(true);
    expect(canMove('SHIPPED', 'DELIVERED')).toBe(true);
    expect(canMove('PENDING_PAYMENT', 'SHIPPED')).toBe(false);
    expect(canMove('PAID', 'DELIVERED')).toBe(false);
  });

  it('cancels only before shipping, and ends in CANCELLED and REFUNDED', () => {
    expect(canMove('PAID', 'CANCELLED')).toBe(true);
    expect(canMove('SHIPPED', 'CANCELLED')).toBe(false);
    expect(TRANSITIONS.CANCELLED).toEqual([]);
    expect(TRANSITIONS.REFUNDED).toEqual([]);
  });
});
