/** Small helpers shared by every module: ids, guards, console warnings. */

export type Fields = Record<string, unknown>;

/** A UUID v4: crypto.randomUUID where the context allows it (secure origins only), else getRandomValues. */
export function uuid(c: Crypto = crypto): string {
  return c.randomUUID
    ? c.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (d) =>
        (+d ^ (c.getRandomValues(new Uint8Array(1))[0] & (15 >> (+d / 4)))).toString(16),
      );
}

export const warn = (msg: string): void => console.warn("[trailmark] " + msg);

/** Wraps a callback so nothing it throws ever reaches the host page. */
export function safe<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R | undefined {
  return (...a: A) => {
    try {
      return fn(...a);
    } catch (_) {
      // analytics must never break the page it measures
      return undefined;
    }
  };
}

export const clip = (s: unknown, n: number): string | undefined =>
  s == null ? undefined : String(s).slice(0, n);

export const on = (target: EventTarget, type: string, fn: (e: any) => void, opts?: boolean | AddEventListenerOptions): void =>
  target.addEventListener(type, safe(fn), opts);
