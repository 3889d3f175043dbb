/**
 * The one retry policy of the browser SDK, shared by event delivery (transport.ts) and replay
 * upload (replay/upload.ts): which answers are retried, how long to wait, and `Retry-After`.
 *
 * Each sender keeps its own few lines of retry state (attempt, due time, timer): the transport's
 * timer also gathers batches. A shared stateful retrier was measured at +35 bytes gzipped in
 * trailmark.js, more than its 5 KiB budget had left.
 */

/** What a POST answered: its status and headers (a fetch Response, or a test's stand-in). */
export interface Reply {
  status: number;
  headers: { get(name: string): string | null };
}

/**
 * Answers worth trying again: a timeout (408), rate limited (429) and server faults (5xx).
 * Every other answer is final: delivered, or refused for a reason a resend cannot change.
 */
export const retryable = (status: number): boolean => status == 408 || status == 429 || status >= 500;

/** Exponential backoff with jitter: half the capped delay fixed, half random. */
export function backoff(attempt: number, rand: number): number {
  const d = Math.min(60000, 1000 * 2 ** attempt);
  return d / 2 + (rand * d) / 2;
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), capped at an hour. */
export function retryAfter(h: string | null, now: number): number | undefined {
  if (!h) return undefined;
  const ms = +h >= 0 ? +h * 1000 : Date.parse(h) - now;
  return ms >= 0 ? Math.min(ms, 3600000) : undefined;
}
