/** Core web vitals (LCP, CLS, INP, FCP, TTFB) from PerformanceObserver, each sent once per page load. */
import type { Fields } from "./events";
import type { Tracker } from "./tracker";

type Entry = PerformanceEntry & { value?: number; hadRecentInput?: boolean; interactionId?: number; duration: number; activationStart?: number; responseStart?: number };

/** INP: the worst interaction, ignoring one outlier per 50 interactions (as the web-vitals definition does). */
export function inp(durations: number[]): number | undefined {
  const d = durations.slice().sort((a, b) => b - a);
  return d.length ? d[Math.min(d.length - 1, Math.floor(d.length / 50))] : undefined;
}

/** CLS: the largest session window of layout shifts (gaps under 1 s, windows under 5 s). */
export function cls(shifts: { t: number; v: number }[]): number {
  let max = 0;
  let win = 0;
  let first = 0;
  let prev = -1e9;
  for (const s of shifts) {
    if (s.t - prev < 1000 && s.t - first < 5000) win += s.v;
    else (win = s.v), (first = s.t);
    prev = s.t;
    max = Math.max(max, win);
  }
  return max;
}

export function vitals(t: Tracker): void {
  const PO = window.PerformanceObserver;
  if (!PO || !PO.supportedEntryTypes) return;
  const sent: Record<string, boolean> = {};
  const send = (name: Fields["vital"]["name"], v: number | undefined) => {
    if (v == null || !(v >= 0) || sent[name]) return;
    sent[name] = true;
    t.emit("vital", { name, value: name == "CLS" ? Math.round(v * 10000) / 10000 : Math.round(v) });
  };
  const observe = (type: string, cb: (e: Entry) => void, opts?: object) => {
    if (PO.supportedEntryTypes.indexOf(type) < 0) return false;
    try {
      new PO((l) => l.getEntries().forEach((e) => cb(e as Entry))).observe({ type, buffered: true, ...opts } as PerformanceObserverInit);
    } catch (_) {
      // an old engine without `type` observation: the vital is simply not reported
    }
    return true;
  };
  const nav = performance.getEntriesByType("navigation")[0] as Entry | undefined;
  if (nav) send("TTFB", (nav.responseStart || 0) - (nav.activationStart || 0));
  observe("paint", (e) => e.name == "first-contentful-paint" && send("FCP", e.startTime));
  let lcp: number | undefined;
  observe("largest-contentful-paint", (e) => (lcp = e.startTime));
  const shifts: { t: number; v: number }[] = [];
  const hasCls = observe("layout-shift", (e) => e.hadRecentInput || shifts.push({ t: e.startTime, v: e.value || 0 }));
  const slow: Record<number, number> = {};
  const interaction = (e: Entry) => e.interactionId && (slow[e.interactionId] = Math.max(slow[e.interactionId] || 0, e.duration));
  observe("event", interaction, { durationThreshold: 16 });
  observe("first-input", interaction);
  t.hide.push(() => {
    send("LCP", lcp);
    if (hasCls) send("CLS", cls(shifts));
    send("INP", inp(Object.keys(slow).map((k) => slow[+k])));
  });
}
