/** Consent and data minimisation: DNT/GPC, opt-out, sensitive URL parameters. */

/** Query or fragment parameter names whose values must never leave the browser. */
export const SENSITIVE = /pass|pwd|secret|token|e-?mail|api.?key|^auth(orization)?$|^code$|^sid$|session|ssn|card|cvv|phone/i;

/** Removes sensitive parameters from the query string and fragment of a URL. */
export function stripParams(href: string): string {
  if (!href || href.indexOf("=") < 0) return href;
  return href
    .replace(/([?&#])([^=&#?]*)=[^&#]*/g, (m, sep: string, name: string) => (SENSITIVE.test(name) ? sep : m))
    .replace(/([?&#])&+/g, "$1")
    .replace(/[?&]+(?=#|$)/g, "")
    .replace(/#$/, "");
}

/** A URL as events carry it: without sensitive parameters, at most 2,048 characters. */
export const cleanUrl = (href: string): string => stripParams(href).slice(0, 2048);

/** True when the browser asks not to be tracked (Do Not Track or Global Privacy Control). */
export function privacyRequested(nav: { doNotTrack?: string | null; globalPrivacyControl?: boolean }, win: { doNotTrack?: string | null }): boolean {
  return nav.doNotTrack == "1" || win.doNotTrack == "1" || nav.globalPrivacyControl === true;
}
