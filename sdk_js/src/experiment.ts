/** Experiment assignment, the same in every Trailmark SDK (docs/experiments.md). */

/** 32-bit FNV-1a over the UTF-8 bytes of s. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** The variant of `key` for `visitor`: u = (h % 10000) / 10000, the first variant whose cumulative normalised weight exceeds u. */
export function assign(key: string, visitor: string, variants: string[], weights?: number[]): string {
  const u = (fnv1a(key + ":" + visitor) % 10000) / 10000;
  const w = weights || variants.map(() => 1);
  // summed left to right, like the Python SDK, so both round the same way
  let total = 0;
  for (const x of w) total += x;
  let cum = 0;
  for (let i = 0; i < variants.length; i++) if ((cum += w[i] / total) > u) return variants[i];
  // rounding may leave the sum just under 1: the last variant with weight takes the rest
  let i = variants.length;
  while (--i > 0 && !(w[i] > 0));
  return variants[i];
}

/** Why variants and weights cannot be used, or "" when they can. */
export function problem(key: unknown, variants: unknown, weights: unknown): string {
  const name = (v: unknown) => typeof v == "string" && v != "" && v.length < 65;
  if (!name(key)) return "invalid key";
  if (!Array.isArray(variants) || !variants.length || variants.length > 100 || !variants.every(name)) return "invalid variants";
  if (new Set(variants).size != variants.length) return "variants must be distinct";
  if (weights == null) return "";
  const w = weights as unknown[];
  if (!Array.isArray(w) || w.length != variants.length || !w.every((x) => typeof x == "number" && isFinite(x) && x >= 0) || !w.some((x) => (x as number) > 0))
    return "invalid weights";
  return "";
}

/** A QA pin: `tm_variant_<key>=<variant>` in the page's query string, else in a cookie of that name. */
export function pinned(key: string, search: string, cookie: string): string | null {
  const name = "tm_variant_" + key;
  const q = new URLSearchParams(search).get(name);
  if (q != null) return q;
  for (const part of cookie.split("; ")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at) == name) {
      try {
        return decodeURIComponent(part.slice(at + 1));
      } catch (_) {
        // a malformed cookie pins nothing
        return null;
      }
    }
  }
  return null;
}
