/** Sends replay chunks to `<collector>/v1/replay`: gzip where the browser can, retries, unload delivery. */
import { backoff, type Reply, retryAfter, retryable } from "../retry";
import { MAX_BODY } from "../transport";
import { type Chunk, QUEUE_BYTES } from "./chunks";

export interface Post {
  (url: string, body: BodyInit, gzip: boolean, keepalive: boolean): Promise<Reply>;
}

export const post: Post = (url, body, gzip, keepalive) =>
  fetch(url, {
    method: "POST",
    body,
    keepalive,
    credentials: "omit",
    // text/plain keeps the keepalive (uncompressed) path free of a CORS preflight
    headers: gzip ? { "Content-Type": "text/plain", "Content-Encoding": "gzip" } : { "Content-Type": "text/plain" },
  });

/** The body gzip-compressed with CompressionStream, or undefined where the browser lacks it. */
export function gzip(text: string): Promise<ArrayBuffer> | undefined {
  if (typeof CompressionStream == "undefined") return undefined;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

export interface Uploader {
  add(c: Chunk): void;
  /** Page hidden: send what fits the keepalive budget uncompressed, return what stays unconfirmed. */
  unload(): Chunk[];
  pending(): Chunk[];
  /** How many chunks were dropped, oldest first, to keep the queue within QUEUE_BYTES. */
  dropped(): number;
}

/** One chunk in flight at a time, in seq order, so the collector sees a session's chunks in order. */
export function uploader(url: string, onChange: (pending: Chunk[]) => void, send: Post = post, clock = Date.now, rand = Math.random): Uploader {
  let queue: Chunk[] = [];
  let dropped = 0;
  let busy = false;
  let attempt = 0;
  let retryAt = 0;
  let timer: ReturnType<typeof setTimeout> | 0 = 0;

  const done = (seq: number) => {
    queue = queue.filter((c) => c.seq != seq);
    onChange(queue);
  };
  /** The oldest whole chunks go until the queue fits QUEUE_BYTES; the one on the wire stays. */
  const bound = () => {
    const first = busy ? 1 : 0;
    let bytes = 0;
    for (const c of queue) bytes += c.body.length;
    // the newest chunk stays even alone over the bound: it is the one a player needs most
    while (bytes > QUEUE_BYTES && queue.length > first + 1) {
      bytes -= queue.splice(first, 1)[0].body.length;
      dropped++;
    }
  };
  const retry = (ms?: number) => {
    const d = ms == null ? backoff(attempt++, rand()) : ms;
    retryAt = clock() + d;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => ((timer = retryAt = 0), next()), d);
  };

  const next = (): void => {
    const c = queue[0];
    if (busy || !c || clock() < retryAt) return;
    busy = true;
    const z = gzip(c.body);
    (z ? z.then((b) => send(url, b, true, false)) : send(url, c.body, false, false))
      .then(
        (r) => {
          if (retryable(r.status)) return retry(retryAfter(r.headers.get("Retry-After"), clock()));
          // stored, or refused for good (4xx: malformed, oversize, over the session cap)
          attempt = 0;
          done(c.seq);
        },
        () => retry(),
      )
      .then(() => {
        busy = false;
        next();
      });
  };

  return {
    add: (c) => {
      queue.push(c);
      bound();
      onChange(queue);
      next();
    },
    unload: () => {
      let budget = MAX_BODY;
      for (const c of queue) {
        // string length undercounts non-ASCII bytes; a chunk that does not fit waits for the next page
        const n = new Blob([c.body]).size;
        if (n > budget) break;
        budget -= n;
        try {
          send(url, c.body, false, true).then((r) => retryable(r.status) || done(c.seq), () => undefined);
        } catch (_) {
          break;
        }
      }
      return queue;
    },
    pending: () => queue,
    dropped: () => dropped,
  };
}
