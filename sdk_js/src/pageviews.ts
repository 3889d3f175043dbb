/** Pageview autocapture, including single-page apps that navigate with the History API or hashes. */
import type { Tracker } from "./tracker";
import { on, safe } from "./util";

export function pageviews(t: Tracker): void {
  const h = history as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ["pushState", "replaceState"]) {
    const orig = h[m];
    h[m] = function (this: unknown, ...a: unknown[]) {
      const r = orig.apply(this, a);
      // routers call this before rendering; the URL is already the new one
      safe(() => t.page())();
      return r;
    };
  }
  // fragment navigations fire popstate too (then hashchange); t.page() ignores fragments that are
  // neither routes nor, in hash mode, any fragment
  on(window, "popstate", () => t.page());
  t.page();
}
