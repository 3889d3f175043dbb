/** rrweb record options from the script tag's data-* attributes: private by default. */

/** Mouse moves and scrolls are sampled: they are most of a recording's bytes and little of its meaning. */
export const MOUSEMOVE_MS = 50;
export const SCROLL_MS = 150;
/** A periodic full snapshot bounds how far a player must replay from the last one. */
export const CHECKOUT_MS = 2 * 60 * 1000;

/**
 * Every kind of form field whose value a visitor types or picks. rrweb's `maskAllInputs` leaves
 * out hidden inputs (tokens a site puts there) and file inputs (the picked file's name).
 */
const MASKED_INPUTS = "color date datetime-local email month number range search tel text time url week textarea select password hidden file";

/**
 * Text the visitor types into `contenteditable` elements (rich-text editors, comment boxes)
 * reaches rrweb as text mutations, not input events: mask every editable element's text.
 */
export const MASKED_TEXT = "[data-tm-mask],.tm-mask,[contenteditable]:not([contenteditable=false])";

/**
 * The text mask: `data-replay-mask="all"` masks every text node; `data-replay-mask-selector`
 * adds the site's own selector (a live preview that echoes what the visitor types, say). A
 * selector the browser rejects masks all text: failing open would record what it was meant to hide.
 */
export function maskSelector(ds: Record<string, string | undefined>, valid: (sel: string) => boolean): string {
  const own = ds.replayMaskSelector;
  if (ds.replayMask == "all" || (own && !valid(own))) return "*";
  return own ? MASKED_TEXT + "," + own : MASKED_TEXT;
}

/** True when the browser accepts `sel` as a CSS selector. */
export function validSelector(sel: string): boolean {
  try {
    document.createDocumentFragment().querySelector(sel);
    return true;
  } catch (_) {
    return false;
  }
}

/**
 * Private by default: every form field and editable element is masked, `[data-tm-mask]` text
 * too, and `[data-tm-block]` elements are recorded as empty boxes of the same size.
 */
export function recordOptions(ds: Record<string, string | undefined>, valid = validSelector) {
  const maskInputOptions: Record<string, boolean> = {};
  for (const t of MASKED_INPUTS.split(" ")) maskInputOptions[t] = true;
  return {
    maskInputOptions,
    maskTextSelector: maskSelector(ds, valid),
    blockSelector: "[data-tm-block]",
    sampling: { mousemove: MOUSEMOVE_MS, scroll: SCROLL_MS, input: "last" as const, media: 800 },
    checkoutEveryNms: CHECKOUT_MS,
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    slimDOMOptions: { script: true, comment: true, headFavicon: true, headWhitespace: true, headMetaSocial: true, headMetaRobots: true, headMetaVerification: true },
  };
}
