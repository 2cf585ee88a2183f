import { randomInt } from 'node:crypto';

/**
 * names: upstream's generated name parts (k8s.io/apimachinery/pkg/util/rand): an alphabet of lowercase consonants
 * and digits with no vowels, so no generated suffix spells a word.
 */
export const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** randomSuffix is rand.String: length random characters of ALPHANUMS (generateName's 5, volume names). */
export function randomSuffix(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return out;
}

/** safeEncode is rand.SafeEncodeString: each character mapped into ALPHANUMS (pod-template-hash). */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += ALPHANUMS[text.charCodeAt(i) % ALPHANUMS.length];
  return out;
}
