/** Recorded URLs without their secrets: the page URL of meta events and URL attributes of elements. */
import { stripParams } from "../privacy";

/**
 * Keys whose string values are URLs in rrweb events, in full snapshots and mutations alike:
 * a meta event's `href` and the URL attributes of elements (rrweb renames the src of a frame
 * it does not enter to `rr_src`). The collector strips the same keys again (collector/enrich/replay.py).
 */
const URL_KEYS: Record<string, 1> = {
  href: 1, src: 1, rr_src: 1, srcset: 1, action: 1, formaction: 1, poster: 1, cite: 1, ping: 1,
  background: 1, data: 1, "xlink:href": 1,
};

/**
 * CSS that rrweb records: a stylesheet's text (`_cssText`), a style attribute, an inserted rule.
 * rrweb rewrites relative `url()`s against the page URL, query and all when it holds a "/".
 */
const CSS_KEYS: Record<string, 1> = { _cssText: 1, style: 1, rule: 1 };

/** The `url()`s of CSS text stripped; the rest stays as recorded. */
export function stripCss(css: string): string {
  return css.indexOf("=") < 0 ? css : css.replace(/url\(\s*(['"]?)([^'")]*)\1\s*\)/g, (_, q: string, u: string) => "url(" + q + stripParams(u) + q + ")");
}

/** Every URL in an attribute value (srcset and ping hold several, apart by white space) stripped. */
export function stripAll(value: string): string {
  return value.indexOf("=") < 0 ? value : value.replace(/\S+/g, stripParams);
}

/** An rrweb event as JSON, its recorded URLs stripped; rrweb's own objects are left untouched. */
export function serialize(ev: unknown): string {
  return JSON.stringify(ev, (k, v) => (typeof v != "string" ? v : URL_KEYS[k] === 1 ? stripAll(v) : CSS_KEYS[k] === 1 ? stripCss(v) : v));
}
