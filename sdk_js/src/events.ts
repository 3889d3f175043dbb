/**
 * The events of wire protocol v1 (docs/protocol.md), one type per kind, as the collector decodes
 * them (collector/wire.py: the tagged `Event` union). Types only: they cost the bundles nothing.
 */

/** Fields every event may carry; the tracker fills them, an event's own fields may override some. */
export type Common = {
  /** Client-made UUID: the collector's dedup key. */
  id: string;
  ts: number;
  anon_id?: string;
  session_id?: string;
  user_id?: string | null;
  url?: string;
  referrer?: string;
  title?: string;
  vw?: number;
  vh?: number;
  touchpoint?: string;
};

export type Item = { sku: string; name?: string; price?: number; qty?: number; currency?: string; category?: string };

/** Each kind's own fields, by its `type` tag. */
export type Fields = {
  pageview: { route?: string; referrer?: string; title?: string };
  click: {
    x?: number;
    y?: number;
    sel?: string;
    tag?: string;
    text?: string;
    href?: string | null;
    rx?: number;
    ry?: number;
    dw?: number;
    dh?: number;
    rage?: boolean;
    dead?: boolean;
  };
  scroll: { depth: number; dh?: number };
  page_leave: { engaged_ms: number; depth?: number };
  cart: { action: "add" | "remove"; item: Item };
  checkout: { items: Item[]; value?: number; currency?: string };
  purchase: { order_id: string; value: number; currency?: string; items: Item[] };
  identify: { user_id: string; traits: Record<string, unknown> };
  track: { name: string; props?: Record<string, unknown> };
  survey: { kind: "nps" | "csat" | "ces"; score: number; scale?: 5 | 7; comment?: string; survey_id?: string };
  error: { message: string; source?: string; line?: number; col?: number; stack?: string };
  vital: { name: "LCP" | "CLS" | "INP" | "FCP" | "TTFB"; value: number };
  exposure: { experiment: string; variant: string };
};

export type Kind = keyof Fields;

/** What a caller hands the tracker for an event of kind K: its own fields, and common ones it sets itself (a click's ts). */
export type Own<K extends Kind> = Fields[K] & Partial<Common>;

/** One event as it goes on the wire: the tagged union of every kind. */
export type WireEvent = { [K in Kind]: Common & { type: K } & Fields[K] }[Kind];
