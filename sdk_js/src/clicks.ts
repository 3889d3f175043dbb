/** Click autocapture: element, position inside it, rage clicks, dead clicks and outbound links. */
import { docSize } from "./page";
import { cleanUrl } from "./privacy";
import { selector } from "./selector";
import type { Own } from "./events";
import type { Tracker } from "./tracker";
import { on } from "./util";

/** A click is held this long to learn whether it changed anything (dead) or was repeated (rage). */
export const HOLD_MS = 1100;

/** A click's event fields, held until it is known to be dead or not. */
export type Hit = Own<"click"> & { ts: number; x: number; y: number };

/** Marks a rage burst: 3 or more clicks within 1 s and 30 px of the newest; returns the clicks to remember. */
export function markRage(recent: Hit[], h: Hit): Hit[] {
  const near = recent.filter((o) => h.ts - o.ts <= 1000 && Math.abs(h.x - o.x) <= 30 && Math.abs(h.y - o.y) <= 30).concat(h);
  if (near.length > 2) near.forEach((o) => (o.rage = true));
  return near;
}

/** Offset of v inside [a, a + n] as a fraction 0..1. */
export const within = (v: number, a: number, n: number): number => (n > 0 ? Math.max(0, Math.min(1, (v - a) / n)) : 0);

const MASK = "[data-tm-mask],.tm-mask,[contenteditable]";
const FORM = /^(input|select|textarea|option)$/;

export function clicks(t: Tracker, clickOn: boolean, outbound: boolean): void {
  const d = document;
  let recent: Hit[] = [];
  let pending: Hit[] = [];
  let changes = 0;
  const mo = new MutationObserver(() => changes++);

  const emit = (h: Hit, dead: boolean) => {
    if (pending.indexOf(h) < 0) return;
    pending = pending.filter((p) => p != h);
    if (!pending.length) mo.disconnect();
    h.dead = dead;
    t.emit("click", h);
  };
  // leaving the page is a change, so clicks still held then are not dead
  t.hide.push(() => pending.forEach((h) => emit(h, false)));

  on(
    d,
    "click",
    (e: MouseEvent) => {
      const raw = e.target as Element;
      if (!raw.closest || raw.closest("[data-tm-ignore]")) return;
      const el = raw.closest("a,button,input,select,textarea,label,[role=button]") || raw;
      const link = raw.closest("a[href]") as HTMLAnchorElement | null;
      const href = link && cleanUrl(link.href); // null without a link: the collector stores no href
      if (outbound && link && /^http/.test(href!) && link.host != location.host) t.emit("track", { name: "outbound", props: { href } });
      // the site's own element.click() or dispatchEvent (untrusted) and a click without a pointer
      // (keyboard: detail 0 at 0,0) are no visitor's click on a place of the page: no heatmap click
      if (!clickOn || !(e.isTrusted && e.detail)) return;
      const r = el.getBoundingClientRect();
      const [dw, dh] = docSize();
      // the text of form fields and editable elements is never read (it may be what the visitor typed),
      // nor masked text, in or around el
      const text = FORM.test(el.localName) || el.closest(MASK) || el.querySelector(MASK) ? "" : ((el as HTMLElement).innerText || "").replace(/\s+/g, " ").trim().slice(0, 100);
      const h: Hit = {
        ts: Date.now(),
        url: cleanUrl(location.href),
        x: Math.round(e.pageX),
        y: Math.round(e.pageY),
        sel: selector(el),
        tag: el.localName,
        text: text || undefined,
        href,
        rx: within(e.clientX, r.left, r.width),
        ry: within(e.clientY, r.top, r.height),
        dw,
        dh,
      };
      recent = markRage(recent, h);
      // dead: no DOM change, navigation, scroll or focus change within HOLD_MS of the click
      if (!pending.length) mo.observe(d, { subtree: true, childList: true, attributes: true, characterData: true });
      pending.push(h);
      const snap = () => [changes, location.href, scrollX, scrollY].join() + (d.activeElement == focus);
      const focus = d.activeElement;
      const before = snap();
      setTimeout(() => emit(h, !FORM.test(el.localName) && before == snap()), HOLD_MS);
    },
    true,
  );
}
