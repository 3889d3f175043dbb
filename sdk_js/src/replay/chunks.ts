/** Cutting the rrweb event stream into upload chunks, and remembering chunks and seq across page loads. */

/** A chunk is cut after this long or this many bytes of JSON, whichever comes first. */
export const CHUNK_MS = 5000;
export const CHUNK_BYTES = 300 * 1024;
/** Unsent chunks kept in sessionStorage for the next page load; beyond this the oldest go. */
export const PENDING_BYTES = 1024 * 1024;
/**
 * Unsent chunks held in memory while the collector cannot take them (429, 503, offline); beyond
 * this the oldest whole chunks go. A recording keeps growing while the collector asks it to wait
 * for up to an hour: without a bound the tab's memory would grow with it.
 */
export const QUEUE_BYTES = 2 * 1024 * 1024;

export interface Who {
  key: string;
  session_id: string;
  anon_id?: string;
}

export interface Chunk {
  seq: number;
  /** The JSON body of POST /v1/replay, uncompressed. */
  body: string;
}

/** Where a chunk's body is built: the envelope around already-serialized rrweb events. */
export function chunkBody(who: Who, seq: number, events: string[]): string {
  const head = { key: who.key, session_id: who.session_id, anon_id: who.anon_id, seq };
  return JSON.stringify(head).slice(0, -1) + ',"events":[' + events.join(",") + "]}";
}

export interface Store {
  get(k: string): string | null;
  set(k: string, v: string | null): void;
}

/** A storage guarded against quota errors and disabled storage (Safari private mode, sandboxed frames). */
export function guarded(s: () => Storage): Store {
  return {
    get: (k) => {
      try {
        return s().getItem(k);
      } catch (_) {
        return null;
      }
    },
    set: (k, v) => {
      try {
        v == null ? s().removeItem(k) : s().setItem(k, v);
      } catch (_) {
        // storage full or off: the recording still uploads, it only loses resume across loads
      }
    },
  };
}

/**
 * The next chunk number of a session. It lives in localStorage, shared by tabs, because the
 * collector stores one chunk per (session, seq): two tabs counting apart would overwrite nothing
 * and lose the second tab's chunks instead.
 */
export function nextSeq(kv: Store, sid: string): number {
  const [s, n] = (kv.get("tm_rseq") || "").split("|");
  const seq = s == sid && +n >= 0 ? +n : 0;
  kv.set("tm_rseq", sid + "|" + (seq + 1));
  return seq;
}

/** Chunks not yet confirmed by the collector, kept per tab so the next page load sends them. */
export function loadPending(kv: Store): Chunk[] {
  try {
    const v = JSON.parse(kv.get("tm_rpending") || "[]");
    return Array.isArray(v) ? v.filter((c) => c && typeof c.seq == "number" && typeof c.body == "string") : [];
  } catch (_) {
    return [];
  }
}

export function savePending(kv: Store, chunks: Chunk[]): void {
  let total = 0;
  const kept: Chunk[] = [];
  // newest first: a resumed recording needs the latest full snapshot more than old mouse moves
  for (let i = chunks.length - 1; i >= 0; i--) {
    total += chunks[i].body.length;
    if (total > PENDING_BYTES) break;
    kept.unshift(chunks[i]);
  }
  kv.set("tm_rpending", kept.length ? JSON.stringify(kept) : null);
}
