"""Fidelity measures shared by the e2e tests and bench/fidelity.py: the share of pixels that differ
between two screenshots, compared in Chromium itself (no image library needed)."""

from __future__ import annotations

import base64
from typing import Any

# A channel must differ by more than this (of 255) for a pixel to count as different: text
# anti-aliasing and colour rounding between two renderings of the same page stay under it.
TOLERANCE = 24

_COMPARE = """async ([a, b, tolerance]) => {
  const load = (src) => new Promise((ok, fail) => {
    const i = new Image(); i.onload = () => ok(i); i.onerror = fail; i.src = src; });
  const [ia, ib] = await Promise.all([load(a), load(b)]);
  const w = Math.min(ia.width, ib.width), h = Math.min(ia.height, ib.height);
  const pixels = (img) => { const c = document.createElement('canvas'); c.width = w; c.height = h;
    const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0); return ctx.getImageData(0, 0, w, h).data; };
  const pa = pixels(ia), pb = pixels(ib);
  let differ = 0;
  for (let i = 0; i < pa.length; i += 4) {
    if (Math.abs(pa[i] - pb[i]) > tolerance || Math.abs(pa[i + 1] - pb[i + 1]) > tolerance
        || Math.abs(pa[i + 2] - pb[i + 2]) > tolerance) differ++;
  }
  return {differ, total: w * h, sizes: [ia.width, ia.height, ib.width, ib.height]};
}"""


def pixel_diff(browser: Any, png_a: bytes, png_b: bytes) -> float:
    """Share (0..1) of pixels that differ between two PNG screenshots of the same size."""
    page = browser.new_page()
    try:
        urls = ["data:image/png;base64," + base64.b64encode(png).decode() for png in (png_a, png_b)]
        got = page.evaluate(_COMPARE, [*urls, TOLERANCE])
    finally:
        page.close()
    a_w, a_h, b_w, b_h = got["sizes"]
    if (a_w, a_h) != (b_w, b_h):
        raise ValueError(f"screenshots differ in size: {a_w}x{a_h} and {b_w}x{b_h}")
    return float(got["differ"]) / float(got["total"])


def replay_frame_png(page: Any) -> bytes:
    """The replay page's recorded frame as the analyst sees it, without rrweb's mouse cursor."""
    page.evaluate("""() => { for (const m of document.querySelectorAll('.replayer-mouse, .replayer-mouse-tail'))
        m.style.display = 'none'; }""")
    return bytes(page.locator("#replay iframe").screenshot())
