import { describe, expect, test } from 'vitest';
import type { JsonValue } from '#shared/engagement/json-value.ts';
import { consentProblem, emailAddressOf } from '#shared/guards/consent.ts';
import { customer } from './customer.ts';

describe('consent', () => {
  test('a subscribed customer with an address may be mailed', () => {
    expect(consentProblem(customer())).toBeUndefined();
  });

  test('suppression comes first, then consent, then the address', () => {
    expect(consentProblem(customer({ suppressed: true, subscribed: false, traits: {} }))).toBe('suppressed');
    expect(consentProblem(customer({ suppressed: true }))).toBe('suppressed');
    expect(consentProblem(customer({ subscribed: false, traits: {} }))).toBe('unsubscribed');
    expect(consentProblem(customer({ traits: {} }))).toBe('no-email');
  });

  test.each([
    ['missing', undefined],
    ['not text', 42],
    ['empty', ''],
    ['no @', 'ada.example.com'],
    ['no domain', 'ada@'],
    ['no local part', '@example.com'],
    ['an undotted domain', 'ada@localhost'],
    ['two @', 'ada@lovelace@example.com'],
    ['a space inside', 'ada lovelace@example.com'],
    ['a display name', 'Ada <ada@example.com>'],
    ['a list', 'ada@example.com, bob@example.com'],
    ['an empty label', 'ada@example..com'],
    ['a trailing dot', 'ada@example.com.'],
    ['too long', `${'a'.repeat(250)}@example.com`],
  ])('an email trait that is %s is no address', (_, email) => {
    const traits: Record<string, JsonValue> = email === undefined ? {} : { email };
    expect(emailAddressOf(traits)).toBeUndefined();
    expect(consentProblem(customer({ traits }))).toBe('no-email');
  });

  test.each([
    ['ada@example.com', 'ada@example.com'],
    ['  ada+news@mail.example.co.uk ', 'ada+news@mail.example.co.uk'],
    ['o.reilly-jr@xn--bcher-kva.example', 'o.reilly-jr@xn--bcher-kva.example'],
  ])('%j is an address', (email, address) => {
    expect(emailAddressOf({ email })).toBe(address);
  });
});
