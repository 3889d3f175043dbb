/**
 * trailmark-experiments.js: `trailmark.experiment(key, variants, {weights})` returns the visitor's
 * variant synchronously and records one exposure per session. It is a script of its own (the core
 * has no bytes left for it) that a site loads without `async` before the code that renders a
 * variant, so the variant is known at first paint, before the async core has loaded.
 */
import type { Core, Host } from "../core";
import { assign, pinned, problem } from "../experiment";
import { privacyRequested } from "../privacy";
import { identity } from "../session";
import { cookieKv, layered, localKv } from "../storage";
import { safe, warn } from "../util";

safe((w: Host) => {
  // the same stub as the snippet: calls made before the core loads wait in trailmark.q
  const api = (w.trailmark =
    w.trailmark ||
    (function (...a: unknown[]) {
      (api.q = (api.q as unknown[][]) || []).push(a);
    } as Core));
  const el = document.currentScript as HTMLScriptElement | null;
  const ds = (el && el.dataset) || {};
  const cookieless = ds.cookieless == "true";
  const kv = layered((!cookieless && localKv()) || cookieKv());

  const experiment = (key: unknown, variants: unknown, opts?: { weights?: unknown }): string | undefined => {
    const weights = opts && opts.weights;
    const bad = problem(key, variants, weights);
    if (bad) return warn("experiment: " + bad), undefined;
    const k = key as string;
    const vs = variants as string[];
    const pin = pinned(k, location.search, document.cookie);
    // a QA pin shows the variant and records nothing: QA views stay out of the results
    if (pin != null && vs.indexOf(pin) >= 0) return pin;
    const consent = kv.get("tm_consent");
    const off = consent == "out" || (ds.respectDnt != "false" && consent != "in" && privacyRequested(navigator, w as never));
    const id = identity(cookieless || off ? null : kv);
    const ctx = w.trailmark!._ctx;
    const visitor = id.uid || (ctx && ctx().user_id) || id.anon();
    // without a visitor id (opted out, cookieless and anonymous) nothing can keep the variant
    // stable from page to page: such visitors see the first variant, the control, and count nowhere
    if (off || !visitor) return vs[0];
    const variant = assign(k, visitor, vs, weights as number[] | undefined);
    const mark = (id.session(Date.now()) || "") + ":" + variant;
    if (kv.get("tm_x_" + k) != mark) {
      kv.set("tm_x_" + k, mark);
      w.trailmark!("exposure", k, variant);
    }
    return variant;
  };
  api.experiment = experiment;
  if (!api.v) {
    // The core, loading later, replaces window.trailmark with its own function; it has no bytes
    // left in its budget to copy this method over, so the property hands it over on assignment.
    let current = api;
    Object.defineProperty(w, "trailmark", {
      configurable: true,
      get: () => current,
      set: (next: Core) => {
        current = next;
        if (next && !next.experiment) next.experiment = experiment;
      },
    });
  }
})(window as never);
