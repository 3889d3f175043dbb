/** Stable CSS selectors for clicked elements: ids and test attributes first, short nth-of-type paths otherwise. */

/** The part of a DOM element the selector needs (kept narrow so the logic is testable without a DOM). */
export interface El {
  /** Lower-case tag name (`tagName` upper-cases HTML elements). */
  localName: string;
  id: string;
  parentElement: El | null;
  children: ArrayLike<El>;
  getAttribute(name: string): string | null;
}

const TEST_ATTRS = ["data-testid", "data-test", "data-cy", "data-tm"];

export function selector(el: El): string {
  const parts: string[] = [];
  for (let e: El | null = el; e && parts.length < 8; e = e.parentElement) {
    const tag = e.localName;
    // generated ids (React's ":r1:", numbers) are not stable across renders, so only plain ones count
    if (/^[a-z][\w-]*$/i.test(e.id)) {
      parts.unshift("#" + e.id);
      break;
    }
    const attr = TEST_ATTRS.find((a) => e!.getAttribute(a));
    if (attr || tag == "body") {
      parts.unshift(attr ? "[" + attr + '="' + e.getAttribute(attr)!.replace(/["\\]/g, "\\$&") + '"]' : tag);
      break;
    }
    const same = e.parentElement ? Array.from(e.parentElement.children).filter((s) => s.localName == tag) : [];
    parts.unshift(same.length > 1 ? tag + ":nth-of-type(" + (same.indexOf(e) + 1) + ")" : tag);
  }
  return parts.join(" > ");
}
