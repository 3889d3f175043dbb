/** trailmark.js entry: reads the script tag, replays the stub queue, installs the public API and autocapture. */
import { clicks } from "./clicks";
import * as c from "./commerce";
import type { Core, Ctx, Host } from "./core";
import { engagement } from "./engagement";
import type { Kind, Own } from "./events";
import { errors } from "./errors";
import { pageviews } from "./pageviews";
import { privacyRequested } from "./privacy";
import { queue } from "./queue";
import { identity } from "./session";
import { cookieKv, layered, localKv } from "./storage";
import { tracker } from "./tracker";
import { type Send, transport } from "./transport";
import { on, safe, warn } from "./util";

type Fn = (...a: any[]) => unknown;

// A string body goes as text/plain: a simple CORS request, no preflight. keepalive lets the request
// outlive the page; where a browser ignores it, the events stay queued and the next page resends them.
const send: Send = (url, body, keepalive) => fetch(url, { method: "POST", body, keepalive });

/** Wraps an API method: a failed argument check warns, anything else is swallowed, nothing reaches the page. */
const checked = (name: string, fn: Fn): Fn => (...a) => {
  try {
    return fn(...a);
  } catch (e) {
    // a string is a failed argument check (commerce.ts); anything else is our bug, kept from the page
    if (typeof e == "string") warn(name + ": " + e);
  }
  return undefined;
};

function start(w: Host): void {
  const stub = w.trailmark;
  if (stub && stub.v) return; // loaded twice: the first copy keeps working
  const el = (document.currentScript || document.querySelector('script[src*="trailmark.js"]')) as HTMLScriptElement | null;
  const ds = el ? el.dataset : {};
  const key = ds.key;
  if (!el || !key) return warn("no data-key");
  const base = (ds.collector || new URL(el.src, location.href).origin).replace(/\/+$/, "");
  const cookieless = ds.cookieless == "true";
  const ls = cookieless ? null : localKv();
  // consent is remembered even in cookieless mode: it is the visitor's own choice
  const kv = layered(ls || cookieKv());
  const consent = kv.get("tm_consent");
  const id = identity(cookieless ? null : kv);
  const tx = transport(base + "/v1/batch", key, queue(ls), send);
  const t = tracker({ key, base, hash: ds.hashRoutes == "true", routes: (ds.routes || "").split(",").filter(Boolean) }, id, tx);
  t.off = consent == "out" || (ds.respectDnt != "false" && consent != "in" && privacyRequested(navigator, w as never));

  const event = <K extends Kind>(type: K, check: (...a: any[]) => Own<K>) => (...a: unknown[]) => t.emit(type, check(...a));
  const setConsent = (v: string) => kv.set("tm_consent", v);
  const methods: Record<string, Fn> = {
    track: event("track", c.track),
    page: () => t.page(),
    identify: (uid: unknown, traits?: unknown) => {
      const f = c.identify(uid, traits);
      if (!t.off) id.identify(uid as string), t.emit("identify", f);
    },
    reset: () => id.reset(),
    "cart.add": event("cart", (v) => c.cart("add", v)),
    "cart.remove": event("cart", (v) => c.cart("remove", v)),
    checkout: event("checkout", c.checkout),
    purchase: event("purchase", c.purchase),
    survey: event("survey", c.survey),
    // assigned by trailmark-experiments.js or by the site itself; the collector checks the names
    exposure: event("exposure", (experiment, variant) => ({ experiment, variant })),
    optOut: () => {
      setConsent("out");
      t.off = true;
      tx.q.save([]);
      id.reset();
    },
    optIn: () => {
      setConsent("in");
      t.off = false;
      t.page();
    },
    flush: () => tx.flush(),
    // for the replay module: who is recording and where to send it
    // (no ids while tracking is off: reading them would store them)
    _ctx: (): Ctx => ({
      key,
      base,
      anon_id: t.off ? undefined : id.anon(),
      session_id: t.off ? undefined : id.session(Date.now()),
      user_id: id.uid,
      off: t.off,
      ds,
    }),
  };
  const api = ((m: string, ...a: unknown[]) => (methods[m] ? methods[m](...a) : warn("unknown method " + m))) as Core;
  for (const k in methods) api[k] = methods[k] = checked(k, methods[k]);
  api.cart = { add: methods["cart.add"], remove: methods["cart.remove"] };
  api.v = 1;
  // for the lazily loaded bundles: the tracker itself (emit, hide hooks)
  api._t = t;
  w.trailmark = api;
  // calls made before the script loaded run first, in order: an early identify or optOut shapes the first pageview
  ((stub && stub.q) || []).forEach((a) => (api as (...a: unknown[]) => unknown)(...Array.from(a)));

  const is = (k: string) => ds.autocapture != "false" && ds[k] != "false";
  if (is("pageviews")) pageviews(t);
  clicks(t, is("clicks"), is("outbound"));
  engagement(t, is("scroll"), is("leave"));
  if (is("errors")) errors(t);
  on(document, "visibilitychange", () => document.visibilityState == "hidden" && t.hidden());
  on(w, "pagehide", t.hidden);
  on(w, "online", tx.online);
  // events left from an earlier page (offline, or unconfirmed at unload) go out now
  tx.flush();

  // web vitals and session replay are separate bundles, fetched only when wanted
  const load = (name: string) => {
    const s = document.createElement("script");
    s.src = base + "/trailmark-" + name + ".js";
    document.head.appendChild(s);
  };
  if (!t.off) {
    const sid = id.session(Date.now());
    if (is("vitals")) load("vitals");
    if (sid && parseInt(sid.slice(0, 8), 16) / 2 ** 32 < parseFloat(ds.replay || "0")) load("replay");
  }
}

safe(start)(window as never);
