/**
 * A fix-up of the stylesheet text rrweb records. rrweb reads each rule's `cssText`, and Chromium
 * serialises a multi-layer `background` shorthand as if a longhand given with fewer layers
 * (`background-size: cover` for two images) stopped after its first layer: the rebuilt page gets
 * `cover, auto` where the live one has `cover, cover`. Such longhands are written out again after
 * the shorthand, as the page gave them; CSS repeats them over the layers as it does live.
 */
import { EventType, type eventWithTime, IncrementalSource } from "@rrweb/types";

const LONGHANDS = ["background-size", "background-repeat", "background-position-x", "background-position-y",
  "background-origin", "background-clip", "background-attachment"];

/** Layers in a CSS list value: top-level commas, not those inside functions (`rgb(0, 0, 255)`). */
function layers(v: string): number {
  let depth = 0;
  let n = 1;
  for (const c of v) {
    if (c == "(") depth++;
    else if (c == ")") depth--;
    else if (c == "," && !depth) n++;
  }
  return n;
}

/** The declarations the rule's serialised text loses (empty when it loses none). */
export function lostLonghands(style: CSSStyleDeclaration, cssText: string): string {
  const images = style.getPropertyValue("background-image");
  if (!images || layers(images) < 2 || cssText.indexOf("background:") < 0) return "";
  let extra = "";
  for (const p of LONGHANDS) {
    const v = style.getPropertyValue(p);
    // "initial" marks layers the shorthand itself set: its serialisation keeps those
    if (v && v.indexOf("initial") < 0 && layers(v) < layers(images)) extra += p + ": " + v + "; ";
  }
  return extra;
}

/** `css` (rrweb's text of `sheet`) with the lost declarations put back into their rules. */
export function fixSheetText(css: string, sheet: CSSStyleSheet): string {
  const walk = (rules: CSSRuleList | undefined): void => {
    for (const r of Array.from(rules || [])) {
      const rule = r as CSSStyleRule;
      const extra = rule.style ? lostLonghands(rule.style, rule.cssText) : "";
      if (extra) {
        // the rule's text in rrweb's copy: its selector, then a body with the shorthand
        const head = rule.selectorText + " {";
        for (let at = css.indexOf(head); at >= 0; at = css.indexOf(head, at + 1)) {
          const end = css.indexOf("}", at);
          const body = css.slice(at, end);
          if (end > 0 && body.indexOf("background:") > 0 && body.indexOf(extra) < 0) {
            css = css.slice(0, end) + extra + css.slice(end);
            break;
          }
        }
      }
      walk((r as CSSGroupingRule).cssRules);
    }
  };
  walk(sheet.cssRules);
  return css;
}

type Sn = { id?: number; attributes?: Record<string, unknown>; childNodes?: Sn[] };

/** Every `_cssText` in a serialised node tree refreshed from its live stylesheet. */
function fixTree(sn: Sn | undefined, node: (id: number) => Node | null): void {
  if (!sn) return;
  const css = sn.attributes && sn.attributes._cssText;
  if (typeof css == "string" && sn.id != null) {
    const sheet = (node(sn.id) as HTMLStyleElement | null)?.sheet;
    // a cross-origin sheet's rules cannot be read; rrweb then had none to record either
    try {
      if (sheet) sn.attributes!._cssText = fixSheetText(css, sheet);
    } catch (_) {
      // left as rrweb recorded it
    }
  }
  for (const child of sn.childNodes || []) fixTree(child, node);
}

/** An rrweb event with its recorded stylesheets fixed (full snapshots and added nodes). */
export function fixEvent(ev: eventWithTime, node: (id: number) => Node | null): void {
  if (ev.type == EventType.FullSnapshot) fixTree(ev.data.node as Sn, node);
  if (ev.type == EventType.IncrementalSnapshot && ev.data.source == IncrementalSource.Mutation) {
    for (const add of ev.data.adds) fixTree(add.node as Sn, node);
  }
}
