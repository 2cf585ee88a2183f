import { safeEncode } from '../api/names.ts';

/**
 * podTemplateHash names a Deployment's ReplicaSet for one pod template: a 32-bit FNV-1a hash of the template
 * (canonical JSON, keys sorted), printed in decimal and encoded with upstream's SafeEncodeString alphabet, so
 * names look like upstream's (`nginx-deployment-6dd86d77d`); the collisionCount is mixed in as upstream does.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  let hash = 0x811c9dc5;
  const text = canonicalJson(template) + (collisionCount ? String(collisionCount) : '');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return safeEncode(String(hash));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
