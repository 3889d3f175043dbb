/**
 * The interface between trailmark.js (the core) and its lazily loaded bundles (replay, vitals,
 * experiments): what the core puts on `window.trailmark`, and what each bundle may read there.
 * Types only: the bundles are built apart, so this is their one contract.
 */
import type { Tracker } from "./tracker";

/** The script tag's `data-*` options. */
export type Options = Record<string, string | undefined>;

/** Who is being recorded and where to send it; no ids while tracking is off (reading them would store them). */
export interface Ctx {
  key: string;
  /** Collector base URL without a trailing slash. */
  base: string;
  anon_id?: string;
  /** Asking renews the session: only visitor activity should ask. */
  session_id?: string;
  user_id: string | null;
  off: boolean;
  ds: Options;
}

/** `window.trailmark`: the snippet's queueing stub until the core loads, then the core's API. */
export interface Core {
  (method: string, ...a: unknown[]): unknown;
  /** Calls queued by the stub before the core loaded. */
  q?: ArrayLike<unknown>[];
  /** Set by the core: present once it runs (a second copy then stays idle). */
  v?: number;
  /** Set by the core, for trailmark-replay.js and trailmark-experiments.js. */
  _ctx?: () => Ctx;
  /** Set by the core, for trailmark-vitals.js: the tracker (emit, hide hooks). */
  _t?: Tracker;
  /** Set by trailmark-replay.js while it records. */
  _replay?: boolean;
  /** Set by trailmark-experiments.js (the core has no bytes for it). */
  experiment?: (key: unknown, variants: unknown, opts?: { weights?: unknown }) => string | undefined;
  /** The public methods (track, page, identify, ...): see index.ts. */
  [method: string]: unknown;
}

export type Host = Window & { trailmark?: Core };
