import { describe, expect, test } from 'vitest';
import { isHeldOut } from '#shared/guards/holdout.ts';

const customers = Array.from({ length: 10_000 }, (_, index) => `customer-${index}`);

function heldOutPercent(campaignId: string, percent: number): number {
  return (customers.filter((id) => isHeldOut(campaignId, id, percent)).length / customers.length) * 100;
}

describe('holdout', () => {
  test('the same customer is always in or out of the same campaign', () => {
    const first = customers.slice(0, 200).map((id) => isHeldOut('cart-recovery', id, 50));
    const again = customers.slice(0, 200).map((id) => isHeldOut('cart-recovery', id, 50));
    expect(again).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  test('0 holds out no one and 100 everyone', () => {
    expect(heldOutPercent('cart-recovery', 0)).toBe(0);
    expect(heldOutPercent('cart-recovery', 100)).toBe(100);
  });

  test.each([10, 50])('holds out %i%% of customers, within 2 points', (percent) => {
    for (const campaignId of ['cart-recovery', 'vip-welcome']) {
      expect(Math.abs(heldOutPercent(campaignId, percent) - percent)).toBeLessThanOrEqual(2);
    }
  });

  test('a larger holdout keeps everyone a smaller one held out', () => {
    const atTen = customers.filter((id) => isHeldOut('cart-recovery', id, 10));
    expect(atTen.every((id) => isHeldOut('cart-recovery', id, 50))).toBe(true);
  });

  test('campaigns draw their groups independently', () => {
    const both = customers.filter(
      (id) => isHeldOut('cart-recovery', id, 50) && isHeldOut('vip-welcome', id, 50),
    );
    // Independent halves overlap in about a quarter; the same draw would overlap in a half.
    expect(Math.abs((both.length / customers.length) * 100 - 25)).toBeLessThanOrEqual(2);
  });

  test('the customer id is separated from the campaign id', () => {
    const joined = customers.slice(0, 500).map((id) => isHeldOut('a', `b${id}`, 50));
    const moved = customers.slice(0, 500).map((id) => isHeldOut('ab', id, 50));
    expect(moved).not.toEqual(joined);
  });
});
