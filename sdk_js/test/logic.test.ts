import assert from "node:assert/strict";
import { test } from "node:test";
import { type Hit, markRage, within } from "../src/clicks";
import { matchRoute, pageKey, scrollDepth } from "../src/page";
import { cleanUrl, privacyRequested } from "../src/privacy";
import { type El, selector } from "../src/selector";
import { uuid } from "../src/util";
import { cls, inp } from "../src/vitals";

/** A tiny element tree: enough DOM for the selector, built from (tag, attrs, children). */
function el(tag: string, attrs: Record<string, string> = {}, kids: El[] = []): El {
  const e: El = {
    localName: tag,
    id: attrs.id || "",
    parentElement: null,
    children: kids,
    getAttribute: (n) => attrs[n] ?? null,
  };
  for (const k of kids) k.parentElement = e;
  return e;
}

test("selector: an id wins, even up the tree", () => {
  const b = el("button");
  el("body", {}, [el("div", { id: "cart" }, [el("span"), b])]);
  assert.equal(selector(b), "#cart > button");
});

test("selector: test attributes come before paths", () => {
  const b = el("button", { "data-testid": 'add "1"' });
  el("body", {}, [el("div", {}, [b, el("button")])]);
  assert.equal(selector(b), '[data-testid="add \\"1\\""]');
});

test("selector: nth-of-type only where siblings share the tag; generated ids ignored", () => {
  const target = el("a", { id: ":r1:" });
  const li2 = el("li", {}, [target]);
  el("body", {}, [el("main", {}, [el("ul", {}, [el("li"), li2, el("li")]), el("p")])]);
  assert.equal(selector(target), "body > main > ul > li:nth-of-type(2) > a");
});

test("selector: deep trees give a short path of at most 8 steps", () => {
  let leaf = el("i");
  let top = leaf;
  for (let i = 0; i < 12; i++) top = el("div", {}, [top]);
  el("body", {}, [top]);
  assert.equal(selector(leaf).split(" > ").length, 8);
  leaf = top;
});

test("scroll depth is the viewport bottom over the document height", () => {
  assert.equal(scrollDepth(0, 800, 4000), 20);
  assert.equal(scrollDepth(1200, 800, 4000), 50);
  assert.equal(scrollDepth(3200, 800, 4000), 100);
  assert.equal(scrollDepth(5000, 800, 4000), 100);
  assert.equal(scrollDepth(0, 800, 0), 100);
  assert.equal(scrollDepth(0, 800, 600), 100);
});

test("SPA pageviews: the fragment counts for hash routes (#/, #!/) and in hash mode, not for anchors", () => {
  assert.equal(pageKey("http://a/p?x=1#top", false), "http://a/p?x=1");
  assert.equal(pageKey("http://a/p#top", true), "http://a/p#top");
  assert.equal(pageKey("http://a/#/cart", true), "http://a/#/cart");
  assert.equal(pageKey("http://a/#/cart", false), "http://a/#/cart");
  assert.equal(pageKey("http://a/#!/cart", false), "http://a/#!/cart");
  assert.equal(pageKey("http://a/#cart/x", false), "http://a/");
  assert.notEqual(pageKey("http://a/#/cart", false), pageKey("http://a/#/shop", false));
});

test("route templates match whole segments", () => {
  const t = ["/product/:id", "/blog/*/comments", "/"];
  assert.equal(matchRoute("/product/42", t), "/product/:id");
  assert.equal(matchRoute("/product/42/reviews", t), undefined);
  assert.equal(matchRoute("/product/", t), undefined);
  assert.equal(matchRoute("/blog/hello/comments", t), "/blog/*/comments");
  assert.equal(matchRoute("/", t), "/");
  assert.equal(matchRoute("/about", []), undefined);
});

test("sensitive query and fragment parameters are removed", () => {
  const cases: [string, string][] = [
    ["https://s/p?a=1&token=abc&b=2", "https://s/p?a=1&b=2"],
    ["https://s/p?password=x", "https://s/p"],
    ["https://s/p?email=a%40b.c&q=shoes#top", "https://s/p?q=shoes#top"],
    ["https://s/cb#access_token=xyz&state=1", "https://s/cb#state=1"],
    ["https://s/p?utm_source=mail&api_key=k&Session_ID=9", "https://s/p?utm_source=mail"],
    ["https://s/p?author=me&code=123", "https://s/p?author=me"],
    ["https://s/p?q=1", "https://s/p?q=1"],
    ["https://s/p", "https://s/p"],
    ["", ""],
  ];
  for (const [raw, clean] of cases) assert.equal(cleanUrl(raw), clean, raw);
  // the collector refuses URLs over 2048 characters, which would lose the whole event
  assert.equal(cleanUrl("https://s/" + "a".repeat(3000)).length, 2048);
  assert.equal(cleanUrl("https://s/?q=" + "a".repeat(3000)).length, 2048);
});

test("DNT and GPC are privacy requests", () => {
  assert.equal(privacyRequested({ doNotTrack: "1" }, {}), true);
  assert.equal(privacyRequested({}, { doNotTrack: "1" }), true);
  assert.equal(privacyRequested({ globalPrivacyControl: true }, {}), true);
  assert.equal(privacyRequested({ doNotTrack: "0", globalPrivacyControl: false }, {}), false);
  assert.equal(privacyRequested({ doNotTrack: null }, {}), false);
});

const hit = (ts: number, x: number, y: number): Hit => ({ ts, x, y, rage: false });

test("rage: three clicks within 1 s and 30 px mark the whole burst", () => {
  let recent: Hit[] = [];
  const a = hit(0, 100, 100);
  const b = hit(300, 110, 95);
  const c = hit(900, 120, 120);
  for (const h of [a, b]) recent = markRage(recent, h);
  assert.deepEqual([a.rage, b.rage], [false, false]);
  recent = markRage(recent, c);
  assert.deepEqual([a.rage, b.rage, c.rage], [true, true, true]);
});

test("rage: slow or scattered clicks are not rage", () => {
  const slow = [hit(0, 0, 0), hit(600, 0, 0), hit(1200, 0, 0)];
  let recent: Hit[] = [];
  for (const h of slow) recent = markRage(recent, h);
  assert.ok(slow.every((h) => !h.rage));
  const far = [hit(0, 0, 0), hit(100, 40, 0), hit(200, 80, 0)];
  recent = [];
  for (const h of far) recent = markRage(recent, h);
  assert.ok(far.every((h) => !h.rage));
});

test("rx/ry are fractions of the element box, clamped", () => {
  assert.equal(within(150, 100, 200), 0.25);
  assert.equal(within(100, 100, 3), 0);
  assert.equal(within(102, 100, 4), 0.5);
  assert.equal(within(400, 100, 200), 1);
  assert.equal(within(5, 100, 0), 0);
});

test("uuid v4, with and without crypto.randomUUID", () => {
  const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(uuid(), v4);
  const noRandomUUID = { getRandomValues: (b: Uint8Array) => crypto.getRandomValues(b) } as unknown as Crypto;
  const ids = new Set(Array.from({ length: 200 }, () => uuid(noRandomUUID)));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, v4);
});

test("INP ignores one outlier per 50 interactions", () => {
  assert.equal(inp([]), undefined);
  assert.equal(inp([40, 200, 80]), 200);
  const many = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(inp(many), 98);
});

test("CLS is the worst session window of shifts", () => {
  assert.equal(cls([]), 0);
  // one window: 0.1 + 0.05; a gap over 1 s; then 0.12 alone
  assert.equal(cls([{ t: 0, v: 0.1 }, { t: 500, v: 0.05 }, { t: 2000, v: 0.12 }]), 0.15000000000000002);
  // a window closes after 5 s even without gaps
  const steady = Array.from({ length: 12 }, (_, i) => ({ t: i * 900, v: 0.01 }));
  assert.equal(Math.round(cls(steady) * 100) / 100, 0.06);
});
