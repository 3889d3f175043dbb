/** Argument checks for the commerce, feedback and custom-event calls: warn in the console, never throw. */
import type { Fields as Own, Item } from "./events";
import { clip, type Fields } from "./util";

const isObj = (v: unknown): v is Fields => !!v && typeof v == "object" && !Array.isArray(v);
/** v when it is a plain object, else {}: optional arguments read the same either way. */
const obj = (v: unknown): Fields => (isObj(v) ? v : {});
const isNum = (v: unknown, lo = 0, hi = 1e15): v is number => typeof v == "number" && v >= lo && v <= hi;
/** A non-empty string of at most 64 characters: the collector's limit for ids. */
const isStr = (v: unknown): v is string => typeof v == "string" && v != "" && v.length < 65;
const isInt = (v: unknown, lo: number, hi: number): boolean => isNum(v, lo, hi) && v % 1 == 0;

/** A failed check throws the name of the argument that was wrong; `checked` in index.ts warns with it. */
function need(ok: unknown, what: string): void {
  if (!ok) throw "invalid " + what;
}

/** The named fields of o (unknown fields would be rejected by the collector). */
const pick = (o: Fields, names: string): Fields => {
  const out: Fields = {};
  for (const k of names.split(" ")) out[k] = o[k];
  return out;
};

/** A cart item: sku required; price >= 0, integer qty >= 1 (default 1); name, currency, category optional. */
export function item(v: unknown): Item {
  const i = obj(v);
  need(isStr(i.sku), "item.sku");
  need(i.price == null || isNum(i.price), "item.price");
  need(i.qty == null || isInt(i.qty, 1, 1e9), "item.qty");
  return { ...pick(i, "sku name price currency category"), qty: i.qty || 1 } as Item;
}

function items(v: unknown): Item[] {
  need(v == null || Array.isArray(v), "items");
  return ((v as unknown[]) || []).map(item);
}

export const cart = (action: Own["cart"]["action"], v: unknown): Own["cart"] => ({ action, item: item(v) });

export function checkout(o: unknown): Own["checkout"] {
  const c = obj(o);
  need(c.value == null || isNum(c.value), "value");
  return { ...pick(c, "value currency"), items: items(c.items) } as Own["checkout"];
}

export function purchase(o: unknown): Own["purchase"] {
  const p = obj(o);
  need(isStr(p.order_id), "order_id");
  need(isNum(p.value), "value");
  return { ...pick(p, "order_id value currency"), items: items(p.items) } as Own["purchase"];
}

/** NPS 0..10, CSAT 1..scale (5 or 7), CES 1..5; `extra` may hold comment, survey_id, scale. */
export function survey(kind: unknown, score: unknown, extra?: unknown): Own["survey"] {
  const x = obj(extra);
  const scale = kind == "nps" ? 10 : kind == "csat" && x.scale ? x.scale : 5;
  need(/^(nps|csat|ces)$/.test(kind as string), "kind");
  need(scale == 5 || scale == 7 || kind == "nps", "scale");
  need(isInt(score, kind == "nps" ? 0 : 1, scale as number), "score");
  return { kind, score, scale: kind == "csat" ? scale : undefined, comment: clip(x.comment, 2000), survey_id: x.survey_id } as Own["survey"];
}

export function track(name: unknown, props?: unknown): Own["track"] {
  need(isStr(name), "name");
  need(props == null || isObj(props), "props");
  return { name, props: props || {} } as Own["track"]; // isStr keeps names within the collector's limits
}

export function identify(uid: unknown, traits?: unknown): Own["identify"] {
  need(isStr(uid), "user id");
  return { user_id: uid as string, traits: obj(traits) };
}
