/**
 * Kubernetes resource quantities as numbers: CPU in millicores (`500m`, `2`), memory in bytes (`128Mi`, `1G`).
 */
export function parseCpu(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) : Number(s) * 1000;
}

export function parseMemory(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)([EPTGMK]i?|[kmu])?$/.exec(String(q));
  if (!m) return 0;
  const units: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    m: 1e-3,
    u: 1e-6,
  };
  return Number(m[1]) * (m[2] ? units[m[2]]! : 1);
}
