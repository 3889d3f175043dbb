import assert from "node:assert/strict";
import { test } from "node:test";
import * as c from "../src/commerce";

/** The warning a call would print, or the fields it would send. */
function run(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    assert.equal(typeof e, "string", "argument checks throw only their message");
    return "warn: " + e;
  }
}

test("cart items: sku or name, qty defaults to 1, only known fields", () => {
  assert.deepEqual(c.cart("add", { sku: "S1", price: 9.5, currency: "EUR", extra: 1 }), {
    action: "add",
    item: { sku: "S1", name: undefined, price: 9.5, currency: "EUR", category: undefined, qty: 1 },
  });
  assert.equal(run(() => c.cart("add", { name: "Shoe", price: 1 })), "warn: invalid item.sku");
  assert.equal(run(() => c.cart("add", { sku: "x".repeat(65) })), "warn: invalid item.sku");
  assert.equal(run(() => c.cart("add", { sku: "S", price: -1 })), "warn: invalid item.price");
  assert.equal(run(() => c.cart("add", { sku: "S", qty: 1.5 })), "warn: invalid item.qty");
  assert.equal(run(() => c.cart("add", null)), "warn: invalid item.sku");
});

test("checkout and purchase", () => {
  assert.deepEqual(c.checkout({ items: [{ sku: "A", qty: 2 }], value: 20, currency: "USD" }).items, [
    { sku: "A", name: undefined, price: undefined, currency: undefined, category: undefined, qty: 2 },
  ]);
  assert.equal(run(() => c.checkout({ value: "20" })), "warn: invalid value");
  assert.equal(run(() => c.checkout({ items: "A" })), "warn: invalid items");
  assert.deepEqual(c.purchase({ order_id: "o-1", value: 59, currency: "EUR" }), { order_id: "o-1", value: 59, currency: "EUR", items: [] });
  assert.equal(run(() => c.purchase({ value: 59 })), "warn: invalid order_id");
  assert.equal(run(() => c.purchase({ order_id: "o", value: NaN })), "warn: invalid value");
  assert.equal(run(() => c.purchase(undefined)), "warn: invalid order_id");
});

test("surveys: NPS 0..10, CSAT 1..5 or 1..7, CES 1..5", () => {
  assert.deepEqual(c.survey("nps", 0, { comment: "meh", survey_id: "q3" }), { kind: "nps", score: 0, scale: undefined, comment: "meh", survey_id: "q3" });
  assert.equal((c.survey("csat", 7, { scale: 7 }) as { scale: number }).scale, 7);
  assert.equal((c.survey("ces", 5) as { scale: number }).scale, undefined);
  const bad: [unknown, unknown, unknown, string][] = [
    ["nps", 11, undefined, "score"],
    ["nps", 7.5, undefined, "score"],
    ["csat", 0, undefined, "score"],
    ["csat", 6, undefined, "score"],
    ["csat", 3, { scale: 10 }, "scale"],
    ["ces", 6, undefined, "score"],
    ["stars", 3, undefined, "kind"],
  ];
  for (const [kind, score, extra, what] of bad) assert.equal(run(() => c.survey(kind, score, extra)), "warn: invalid " + what);
});

test("track and identify", () => {
  assert.deepEqual(c.track("signup", { plan: "pro" }), { name: "signup", props: { plan: "pro" } });
  assert.deepEqual(c.track("signup"), { name: "signup", props: {} });
  assert.equal(run(() => c.track("")), "warn: invalid name");
  assert.equal(run(() => c.track("x", [1])), "warn: invalid props");
  assert.deepEqual(c.identify("u1", { plan: "pro" }), { user_id: "u1", traits: { plan: "pro" } });
  assert.equal(run(() => c.identify(42)), "warn: invalid user id");
  assert.equal(run(() => c.identify("u".repeat(65))), "warn: invalid user id");
});
