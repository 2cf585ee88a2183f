import assert from 'node:assert/strict';
import test from 'node:test';
import { ALPHANUMS, randomSuffix, safeEncode } from './names.ts';

test('randomSuffix() draws from the vowel-free alphabet, every character of it in time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = randomSuffix(5);
    assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    for (const c of s) seen.add(c);
  }
  assert.equal(seen.size, ALPHANUMS.length);
  assert.equal(randomSuffix(0), '');
});

test("safeEncode() maps each character as upstream's SafeEncodeString", () => {
  // '0' is 48 → 48 % 27 = 21 → '4'; 'a' is 97 → 97 % 27 = 16 → 'v'.
  assert.equal(safeEncode('0a'), '4v');
  assert.equal(safeEncode('1234567890'), '56789bcdf4');
});
