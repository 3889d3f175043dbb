/** Pure page maths: SPA pageview identity, route templates, scroll depth. */

/** A `#/path` or `#!/path` fragment is a hash router's route: a page of its own (`#section` anchors are not). */
export const HASH_ROUTE = /#!?(\/[^?]*)/;

/** The key that decides whether a navigation is a new pageview; the fragment counts when it is a route or in hash mode. */
export function pageKey(href: string, hashRoutes: boolean): string {
  return hashRoutes || HASH_ROUTE.test(href) ? href : href.split("#")[0];
}

/** The first template (`/product/:id`, `*` for any segment) matching the path, if any. */
export function matchRoute(path: string, templates: string[]): string | undefined {
  const segs = path.split("/");
  return templates.find((t) => {
    const ts = t.split("/");
    return ts.length == segs.length && ts.every((p, i) => p == segs[i] || (p != "" && (p[0] == ":" || p == "*") && segs[i] != ""));
  });
}

/** Percent of the document seen: bottom of the viewport over the document height, 0..100. */
export function scrollDepth(scrollY: number, viewportH: number, docH: number): number {
  if (docH <= 0) return 100;
  return Math.max(0, Math.min(100, Math.round(((scrollY + viewportH) / docH) * 100)));
}

/** Document width and height in px. */
export function docSize(): [number, number] {
  const e = document.documentElement;
  const b = document.body || e;
  return [Math.max(e.scrollWidth, b.scrollWidth), Math.max(e.scrollHeight, b.scrollHeight)];
}
