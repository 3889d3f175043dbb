/** Maximum scroll depth and engaged (visible) time per page, reported when it is left or hidden. */
import { docSize, scrollDepth } from "./page";
import type { Tracker } from "./tracker";
import { on } from "./util";

export function engagement(t: Tracker, scroll: boolean, leave: boolean): void {
  const d = document;
  const visible = () => d.visibilityState != "hidden";
  let depth = 0;
  let sent = 0;
  let ms = 0;
  let since = visible() ? Date.now() : 0;
  const docH = () => docSize()[1];
  const measure = () => {
    depth = Math.max(depth, scrollDepth(scrollY, innerHeight, docH()));
  };
  // each report carries the time since the previous one, so a page's engaged_ms values add up
  // `hidden`: the page is being hidden or left, so engaged time stops until it is visible again
  const report = (hidden?: boolean) => {
    const now = Date.now();
    if (since) ms += now - since;
    since = !hidden && visible() ? now : 0;
    measure();
    const url = t.pageUrl;
    if (scroll && depth > sent) t.emit("scroll", { depth: (sent = depth), dh: docH(), url });
    if (leave && ms) t.emit("page_leave", { engaged_ms: ms, depth, url });
    ms = 0;
  };
  on(window, "scroll", measure, { passive: true });
  on(d, "visibilitychange", () => visible() && !since && (since = Date.now()));
  t.hide.push(() => report(true));
  t.leave.push(() => {
    report();
    depth = sent = 0;
  });
}
