/** trailmark-vitals.js: web vitals, loaded lazily by trailmark.js to keep the core small. */
import type { Host } from "../core";
import { safe } from "../util";
import { vitals } from "../vitals";

safe(() => {
  const t = (window as Host).trailmark?._t;
  // entries are observed with `buffered`, so loading after the page painted loses nothing
  if (t && !t.vitals) (t.vitals = true), vitals(t);
})();
