/** Test helpers: an in-memory Kv that counts writes, and a navigator for Node 20. */
import type { Kv } from "../src/storage";

export function mapKv(): Kv & { m: Map<string, string> } {
  const m = new Map<string, string>();
  return {
    m,
    get: (k) => (m.has(k) ? m.get(k)! : null),
    set: (k, v) => (v == null ? m.delete(k) : m.set(k, v)),
  };
}

if (typeof (globalThis as { navigator?: unknown }).navigator == "undefined") {
  Object.defineProperty(globalThis, "navigator", { value: { onLine: true }, configurable: true });
}
