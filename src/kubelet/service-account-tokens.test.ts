import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requiresRefresh } from './service-account-tokens.ts';

test('requiresRefresh() renews after 80% of the lifetime or after 24 hours, as upstream', () => {
  const hour = { issued: 0, expires: 3_600_000 };
  assert.equal(requiresRefresh(hour, 2_879_999), false);
  assert.equal(requiresRefresh(hour, 2_880_000), true);
  const year = { issued: 0, expires: 365 * 86_400_000 };
  assert.equal(requiresRefresh(year, 86_399_999), false);
  assert.equal(requiresRefresh(year, 86_400_000), true);
});
