/** trailmark-vitals.js: web vitals, loaded lazily by trailmark.js to keep the core small. */
import type { Tracker } from "../tracker";
import { safe } from "../util";
import { vitals } from "../vitals";

safe(() => {
  const t = (window as unknown as { trailmark?: { _t?: Tracker } }).trailmark?._t;
  // entries are observed with `buffered`, so loading after the page painted loses nothing
  if (t && !(t as { vitals?: boolean }).vitals) ((t as { vitals?: boolean }).vitals = true), vitals(t);
})();
