/** The tracker: builds events with the common fields and hands them to the transport. */
import { HASH_ROUTE, matchRoute, pageKey } from "./page";
import { cleanUrl } from "./privacy";
import type { Identity } from "./session";
import type { Transport } from "./transport";
import type { Kind, Own, WireEvent } from "./events";
import { safe, uuid } from "./util";

export interface Config {
  key: string;
  /** Collector base URL without a trailing slash. */
  base: string;
  hash: boolean;
  routes: string[];
}

export interface Tracker {
  cfg: Config;
  /** True while the visitor opted out or asked not to be tracked: nothing is stored or sent. */
  off: boolean;
  /** Cleaned URL of the current pageview, for events about the page being left. */
  pageUrl: string;
  /** Run before a new pageview (the previous page is being left). */
  leave: (() => void)[];
  /** Run when the page is hidden or unloaded, before the outbox goes to keepalive requests. */
  hide: (() => void)[];
  /** An event of kind K with its own fields; the common ones (id, ts, visitor, session, URL, viewport) are added here. */
  emit<K extends Kind>(type: K, f: Own<K>): void;
  /** Set by trailmark-vitals.js once it observes this page. */
  vitals?: boolean;
  /** A pageview, unless the URL is the one of the last pageview. */
  page(): void;
  hidden(): void;
}

export function tracker(cfg: Config, id: Identity, tx: Transport): Tracker {
  let last = "";
  const t: Tracker = {
    cfg,
    off: false,
    pageUrl: "",
    leave: [],
    hide: [],
    emit: (type, f) => {
      if (t.off) return;
      const now = Date.now();
      tx.add({
        id: uuid(),
        type,
        ts: now,
        anon_id: id.anon(),
        session_id: id.session(now),
        user_id: id.uid,
        url: cleanUrl(location.href),
        vw: innerWidth,
        vh: innerHeight,
        ...f,
      } as WireEvent);
    },
    page: () => {
      const href = location.href;
      const key = pageKey(href, cfg.hash);
      if (t.off || key == last) return;
      const prev = t.pageUrl;
      if (last) t.leave.forEach((f) => safe(f)());
      last = key;
      t.pageUrl = cleanUrl(href);
      const h = HASH_ROUTE.exec(location.hash);
      const path = h ? h[1] : location.pathname;
      t.emit("pageview", {
        route: matchRoute(path, cfg.routes),
        referrer: prev || cleanUrl(document.referrer) || undefined,
        title: document.title.slice(0, 256),
      });
    },
    hidden: () => {
      t.hide.forEach((f) => safe(f)());
      tx.unload();
    },
  };
  return t;
}
