/** Batching, retries and unload delivery of events to `<collector>/v1/batch`. */
import type { Ev, Queue } from "./queue";
import { backoff, type Reply, retryAfter, retryable } from "./retry";

export type { Reply };

export const BATCH_MS = 2000;
export const BATCH_N = 20;
/** Browsers allow 64 KiB of in-flight keepalive bodies per page; stay below it with room for headers. */
export const MAX_BODY = 60000;
const MAX_EVENTS = 200;

/** Posts one body; resolves undefined when the outcome cannot be known (a beacon). */
export type Send = (url: string, body: string, keepalive: boolean) => Promise<Reply | undefined>;

const size = (s: string): number => new TextEncoder().encode(s).length;

/** Splits events into request bodies of at most maxBytes and maxCount events each. */
export function bodies(key: string, sentAt: number, evs: Ev[], maxBytes: number, maxCount = MAX_EVENTS): { body: string; ids: string[]; bytes: number }[] {
  const head = '{"key":' + JSON.stringify(key) + ',"sent_at":' + sentAt + ',"events":[';
  const out: { body: string; ids: string[]; bytes: number }[] = [];
  let parts: string[] = [];
  let ids: string[] = [];
  // "]}" closes the body; each event adds a comma but the first: head + 2 - 1
  let bytes = size(head) + 1;
  const close = () => {
    if (parts.length) out.push({ body: head + parts.join(",") + "]}", ids, bytes });
    parts = [];
    ids = [];
    bytes = size(head) + 1;
  };
  for (const e of evs) {
    const s = JSON.stringify(e);
    const n = size(s) + 1;
    if (parts.length && (bytes + n > maxBytes || parts.length >= maxCount)) close();
    parts.push(s);
    ids.push(e.id);
    bytes += n;
  }
  close();
  return out;
}

export interface Transport {
  q: Queue;
  add(ev: Ev): void;
  /** Sends the next batch now unless one is in flight or the collector asked us to wait. */
  flush(): Promise<void>;
  /** Page hidden or left: hand unsent events to keepalive requests within the keepalive budget. */
  unload(): void;
  /** Back online: forget the backoff and send at once. */
  online(): void;
}

export function transport(url: string, key: string, q: Queue, send: Send, clock = Date.now, rand = Math.random): Transport {
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  let busy = false;
  let attempt = 0;
  let retryAt = 0;
  let inflight: string[] = [];
  // events per request: halved by each 500 so that one event the collector cannot take ends up alone
  let cap = MAX_EVENTS;

  const later = (ms: number) => {
    if (!timer) timer = setTimeout(() => ((timer = 0), flush()), ms);
  };
  const ready = () => q.all().filter((e) => inflight.indexOf(e.id) < 0);
  const batches = () => bodies(key, clock(), ready(), MAX_BODY, cap);

  const retry = (ms?: number) => {
    const d = ms == null ? backoff(attempt++, rand()) : ms;
    retryAt = clock() + d;
    clearTimeout(timer); // a no-op for 0
    timer = setTimeout(() => ((timer = retryAt = 0), flush()), d);
  };

  const post = (b: { body: string; ids: string[] }, keepalive: boolean): Promise<void> => {
    const ids = b.ids;
    inflight = inflight.concat(ids);
    const done = () => (inflight = inflight.filter((i) => ids.indexOf(i) < 0));
    return send(url, b.body, keepalive).then(
      (r) => {
        done();
        // no reply (a beacon): the events stay queued and a later page load resends them;
        // the collector drops the copy by event id
        if (!r) return;
        const s = r.status;
        // alone, it is parked (kept in flight) for the rest of this page: it stays queued, the next
        // page retries it, and it no longer holds the events behind it
        if (s == 500) ids[1] ? (cap = ids.length >> 1) : (inflight = inflight.concat(ids));
        if (retryable(s)) return retry(retryAfter(r.headers.get("Retry-After"), clock()));
        // delivered (events the collector rejected one by one included), or refused for good
        // (4xx other than 408 and 429): either way never resend
        q.drop(ids);
        attempt = retryAt = 0;
        cap = MAX_EVENTS;
      },
      () => (done(), retry()),
    );
  };

  const flush = (): Promise<void> => {
    const b = busy || clock() < retryAt ? undefined : batches()[0];
    if (!b) return Promise.resolve();
    busy = true;
    return post(b, false).then(() => {
      busy = false;
      const left = ready().length;
      if (left && !retryAt) left >= BATCH_N ? flush() : later(BATCH_MS);
    });
  };

  return {
    q,
    add: (ev) => (q.push(ev) >= BATCH_N ? flush() : later(BATCH_MS)),
    flush,
    unload: () => {
      if (clock() < retryAt || navigator.onLine === false) return;
      let budget = MAX_BODY;
      for (const b of batches()) {
        if (b.bytes > budget) break;
        budget -= b.bytes;
        post(b, true);
      }
    },
    online: () => {
      attempt = retryAt = 0;
      flush();
    },
  };
}
