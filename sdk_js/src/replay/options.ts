/** rrweb record options from the script tag's data-* attributes: private by default. */

/** Mouse moves and scrolls are sampled: they are most of a recording's bytes and little of its meaning. */
export const MOUSEMOVE_MS = 50;
export const SCROLL_MS = 150;
/** A periodic full snapshot bounds how far a player must replay from the last one. */
export const CHECKOUT_MS = 2 * 60 * 1000;

/**
 * `data-replay-mask="all"` masks every text node, not only `[data-tm-mask]` ones; inputs are
 * always masked, and `[data-tm-block]` elements are recorded as empty boxes of the same size.
 */
export function recordOptions(ds: Record<string, string | undefined>) {
  return {
    maskAllInputs: true,
    maskTextSelector: ds.replayMask == "all" ? "*" : "[data-tm-mask]",
    blockSelector: "[data-tm-block]",
    sampling: { mousemove: MOUSEMOVE_MS, scroll: SCROLL_MS, input: "last" as const, media: 800 },
    checkoutEveryNms: CHECKOUT_MS,
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    slimDOMOptions: { script: true, comment: true, headFavicon: true, headWhitespace: true, headMetaSocial: true, headMetaRobots: true, headMetaVerification: true },
  };
}
