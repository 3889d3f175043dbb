/** JavaScript errors and unhandled promise rejections of the host page. */
import { cleanUrl } from "./privacy";
import type { Tracker } from "./tracker";
import { clip, on } from "./util";

/** A page in an error loop must not flood the collector. */
const MAX_ERRORS = 20;

export function errors(t: Tracker): void {
  let n = 0;
  const send = (message: unknown, err: unknown, source?: string, line?: number, col?: number) => {
    const e = err as { message?: unknown; stack?: unknown } | null;
    const msg = clip(message || (e && e.message) || err, 500) || "";
    if (n++ >= MAX_ERRORS) return;
    t.emit("error", { message: msg, source: source && cleanUrl(source), line, col, stack: clip(e && e.stack, 4000) });
  };
  on(window, "error", (e: ErrorEvent) => send(e.message, e.error, e.filename, e.lineno, e.colno));
  on(window, "unhandledrejection", (e: PromiseRejectionEvent) => {
    const r = e.reason;
    send((r && r.message) || r, r, "unhandledrejection");
  });
}
