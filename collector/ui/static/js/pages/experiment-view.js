// Shared by the experiment pages: their stylesheet and how a lift or a probability reads.
import { h } from "../app.js";

export function styles() {
  if (!document.querySelector('link[href$="/experiments.css"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/ui/static/experiments.css" }));
  }
}

/** A signed percentage: +12.3 %, -4.0 %. */
export const signed = (v, digits = 1) =>
  v === null || v === undefined ? "–" : `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v * 100).toFixed(digits)}%`;

/** A probability as analysts say it: 99.2 %, or > 99.9 % rather than a misleading 100.0 %. */
export const chance = (p) => (p === null || p === undefined ? "–" : p > 0.999 ? "> 99.9%" : p < 0.001 ? "< 0.1%" : `${(p * 100).toFixed(1)}%`);

export const pValue = (p) => (p === null || p === undefined ? "–" : p < 0.0001 ? "< 0.0001" : p.toFixed(4));

/** "p = 0.0041" or "p < 0.0001" in a sentence. */
export const pText = (p) => (p !== null && p !== undefined && p < 0.0001 ? "p < 0.0001" : `p = ${pValue(p)}`);

/** The query a variant's sessions, replays, funnels and paths are cut by. */
export const variantQuery = (key, variant) => ({ experiment: key, variant });
