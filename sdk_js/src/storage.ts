/** Key-value stores: localStorage first, a first-party cookie for ids when it is blocked, memory last. */

export interface Kv {
  get(k: string): string | null;
  set(k: string, v: string | null): void;
}

/** localStorage, or null when the browser blocks it (it throws on access in that case). */
export function localKv(): Kv | null {
  try {
    // a blocked localStorage throws here already; a full one throws on write, caught by the callers
    const ls = window.localStorage;
    return {
      get: (k) => ls.getItem(k),
      set: (k, v) => (v == null ? ls.removeItem(k) : ls.setItem(k, v)),
    };
  } catch (_) {
    return null;
  }
}

/** A first-party cookie per key, for small values: ids survive when localStorage is blocked. */
export function cookieKv(d = document): Kv {
  return {
    get: (k) => {
      const m = d.cookie.match("(^|; )" + k + "=([^;]*)");
      return m && decodeURIComponent(m[2]);
    },
    set: (k, v) => {
      d.cookie = k + "=" + encodeURIComponent(v || "") + ";path=/;SameSite=Lax;max-age=" + (v == null ? 0 : 31536000);
    },
  };
}

/** `kv` backed by memory: when the browser refuses to store (cookies off too), the page still has its ids. */
export function layered(kv: Kv): Kv {
  const m: Record<string, string | null> = {};
  return {
    get: (k) => {
      try {
        const v = kv.get(k);
        if (v != null) return v;
      } catch (_) {
        // storage refused: the memory copy answers
      }
      return k in m ? m[k] : null;
    },
    set: (k, v) => {
      m[k] = v;
      try {
        kv.set(k, v);
      } catch (_) {
        // storage refused: the memory copy is kept
      }
    },
  };
}
