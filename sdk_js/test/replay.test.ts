import assert from "node:assert/strict";
import { test } from "node:test";
import { chunkBody, loadPending, nextSeq, PENDING_BYTES, QUEUE_BYTES, savePending } from "../src/replay/chunks";
import { lostLonghands } from "../src/replay/css";
import { MASKED_TEXT, recordOptions } from "../src/replay/options";
import { serialize, stripAll, stripCss } from "../src/replay/scrub";
import { type Post, uploader } from "../src/replay/upload";
import { mapKv } from "./helpers";

const who = { key: "wk", session_id: "s1", anon_id: "a1" };

test("a chunk body is the /v1/replay envelope around the serialized events", () => {
  const body = chunkBody(who, 7, ['{"type":4,"timestamp":1}', '{"type":2,"timestamp":2}']);
  assert.deepEqual(JSON.parse(body), {
    key: "wk", session_id: "s1", anon_id: "a1", seq: 7,
    events: [{ type: 4, timestamp: 1 }, { type: 2, timestamp: 2 }],
  });
});

test("seq continues across page loads of a session and restarts for a new one", () => {
  const kv = mapKv();
  assert.deepEqual([nextSeq(kv, "s1"), nextSeq(kv, "s1"), nextSeq(kv, "s1")], [0, 1, 2]);
  assert.equal(nextSeq(kv, "s2"), 0);
  assert.equal(nextSeq(kv, "s2"), 1);
  kv.set("tm_rseq", "garbage");
  assert.equal(nextSeq(kv, "s2"), 0);
});

test("pending chunks survive a page load, newest kept within the byte budget", () => {
  const kv = mapKv();
  const big = "x".repeat(PENDING_BYTES / 3);
  savePending(kv, [0, 1, 2, 3].map((seq) => ({ seq, body: big })));
  assert.deepEqual(loadPending(kv).map((c) => c.seq), [1, 2, 3]);
  savePending(kv, []);
  assert.equal(kv.get("tm_rpending"), null);
  kv.set("tm_rpending", "{not json");
  assert.deepEqual(loadPending(kv), []);
});

test("every typed or picked field is masked, hidden and file inputs too; mask-all-text is opt-in", () => {
  const valid = () => true;
  const masked = recordOptions({}, valid).maskInputOptions;
  for (const t of ["text", "password", "email", "tel", "textarea", "select", "hidden", "file", "search", "number"]) {
    assert.equal(masked[t], true, t);
  }
  assert.equal(masked.checkbox, undefined); // a checkbox's value is the site's, not typed
  assert.equal(recordOptions({}, valid).maskTextSelector, MASKED_TEXT);
  assert.equal(MASKED_TEXT, "[data-tm-mask],.tm-mask,[contenteditable]:not([contenteditable=false])");
  assert.equal(recordOptions({ replayMask: "all" }, valid).maskTextSelector, "*");
  assert.equal(recordOptions({}, valid).blockSelector, "[data-tm-block]");
});

test("a site's own mask selector adds to the mask; one the browser rejects masks all text", () => {
  const own = { replayMaskSelector: "#preview, .echo" };
  assert.equal(recordOptions(own, () => true).maskTextSelector, MASKED_TEXT + ",#preview, .echo");
  assert.equal(recordOptions(own, () => false).maskTextSelector, "*");
  assert.equal(recordOptions({ replayMask: "all", ...own }, () => true).maskTextSelector, "*");
});

test("recorded URLs lose their secrets in meta events, snapshots and mutations", () => {
  const meta = { type: 4, timestamp: 1, data: { href: "https://s.example/cb?q=1&token=S1#access_token=S2&state=ok", width: 8 } };
  assert.equal(JSON.parse(serialize(meta)).data.href, "https://s.example/cb?q=1#state=ok");
  const node = (attributes: Record<string, string>) => ({ type: 2, tagName: "a", attributes, childNodes: [], id: 5 });
  const snapshot = {
    type: 2,
    timestamp: 2,
    data: {
      node: {
        type: 0,
        childNodes: [
          node({ href: "/reset?apiKey=S3&page=2", title: "?token=text" }),
          node({ action: "/pay?Session-Id=S4", rr_src: "https://f.example/?accessToken=S5" }),
          node({ srcset: "/a.png?sig=x 1x, /b.png?API_KEY=S6&w=2 2x", src: "data:image/svg+xml,<svg id='a'/>" }),
        ],
      },
    },
  };
  const out = serialize(snapshot);
  for (const s of ["S1", "S2", "S3", "S4", "S5", "S6"]) assert.ok(!serialize(meta).includes(s) && !out.includes(s), s);
  const kids = JSON.parse(out).data.node.childNodes;
  assert.deepEqual(kids[0].attributes, { href: "/reset?page=2", title: "?token=text" });
  assert.deepEqual(kids[1].attributes, { action: "/pay", rr_src: "https://f.example/" });
  assert.deepEqual(kids[2].attributes, { srcset: "/a.png?sig=x 1x, /b.png?w=2 2x", src: "data:image/svg+xml,<svg id='a'/>" });
  const mutation = { type: 3, timestamp: 3, data: { source: 0, texts: [{ id: 1, value: "?password=typed" }],
    attributes: [{ id: 5, attributes: { href: "/x#/reset?password=S7&y=1", style: { color: "red" } } }],
    adds: [{ parentId: 1, nextId: null, node: node({ href: "?jwt=a&e-mail=S8" }) }] } };
  const m = JSON.parse(serialize(mutation)).data;
  assert.deepEqual(m.attributes[0].attributes, { href: "/x#/reset?y=1", style: { color: "red" } });
  assert.deepEqual(m.adds[0].node.attributes, { href: "?jwt=a" }); // the collector's list takes jwt
  assert.deepEqual(m.texts, [{ id: 1, value: "?password=typed" }]); // text is masked by selector, not here
  assert.equal(JSON.stringify(mutation).includes("S7"), true); // rrweb's own object is left as it was
  assert.equal(stripAll("/p?q=1"), "/p?q=1");
  const css = { type: 2, tagName: "style", attributes: { _cssText: 'a { background: url("http://s.example/p?token=S9&next=/a.png") } b { color: red }' } };
  assert.equal(JSON.parse(serialize(css)).attributes._cssText, 'a { background: url("http://s.example/p?next=/a.png") } b { color: red }');
  assert.equal(stripCss("div { background: url(/i.png?w=2&Access-Token=S10) }"), "div { background: url(/i.png?w=2) }");
});

test("chunks go one at a time in seq order; 5xx retries, 4xx drops", async () => {
  const sent: number[] = [];
  const replies = [503, 200, 413, 200];
  const pending: number[][] = [];
  const post: Post = (_url, body) => {
    sent.push(JSON.parse(String(body)).seq);
    return Promise.resolve({ status: replies.shift()!, headers: { get: () => "0" } });
  };
  const g = globalThis as { CompressionStream?: unknown };
  const saved = g.CompressionStream;
  g.CompressionStream = undefined; // the plain-text path keeps the body readable here
  try {
    const up = uploader("http://c/v1/replay", (q) => pending.push(q.map((c) => c.seq)), post);
    up.add({ seq: 0, body: chunkBody(who, 0, ["{}"]) });
    up.add({ seq: 1, body: chunkBody(who, 1, ["{}"]) });
    up.add({ seq: 2, body: chunkBody(who, 2, ["{}"]) });
    for (let i = 0; i < 20 && up.pending().length; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(sent, [0, 0, 1, 2]);
    assert.deepEqual(up.pending(), []);
  } finally {
    g.CompressionStream = saved;
  }
});

/** Runs `fn` with the plain-text upload path (no CompressionStream), so bodies stay readable. */
async function plain(fn: () => Promise<void>): Promise<void> {
  const g = globalThis as { CompressionStream?: unknown };
  const saved = g.CompressionStream;
  g.CompressionStream = undefined;
  try {
    await fn();
  } finally {
    g.CompressionStream = saved;
  }
}

test("while the collector answers 429 the queue keeps the newest whole chunks within its bound and counts the rest", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  await plain(async () => {
    const sent: number[] = [];
    // rate limited for the whole test: Retry-After an hour
    const post: Post = (_url, body) => {
      sent.push(JSON.parse(String(body)).seq);
      return Promise.resolve({ status: 429, headers: { get: (n) => (n == "Retry-After" ? "3600" : null) } });
    };
    const saved: number[][] = [];
    const up = uploader("http://c/v1/replay", (q) => saved.push(q.map((c) => c.seq)), post);
    const chunk = (seq: number) => ({ seq, body: chunkBody(who, seq, ['"' + "x".repeat(QUEUE_BYTES / 4) + '"']) });
    const size = chunk(0).body.length;
    for (let seq = 0; seq < 10; seq++) {
      up.add(chunk(seq));
      await new Promise((r) => setImmediate(r));
    }
    // one try of chunk 0, then the wait Retry-After asked for: nothing else was sent
    assert.deepEqual(sent, [0]);
    const kept = Math.floor(QUEUE_BYTES / size);
    assert.equal(kept, 3);
    assert.deepEqual(up.pending().map((c) => c.seq), [7, 8, 9]);
    assert.equal(up.dropped(), 7);
    assert.ok(up.pending().reduce((n, c) => n + c.body.length, 0) <= QUEUE_BYTES);
    // the page-hide copy follows the bounded queue
    assert.deepEqual(saved[saved.length - 1], [7, 8, 9]);
    // when the hour is up the newest chunks go, oldest first
    t.mock.timers.tick(3600_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [0, 7]);
  });
});

test("the chunk in flight is never dropped; 408 is retried like 429", async () => {
  await plain(async () => {
    const sent: number[] = [];
    let answer: (status: number) => void = () => undefined;
    const post: Post = (_url, body) => {
      sent.push(JSON.parse(String(body)).seq);
      return new Promise((resolve) => (answer = (status) => resolve({ status, headers: { get: () => "0" } })));
    };
    const up = uploader("http://c/v1/replay", () => undefined, post);
    const big = (seq: number) => ({ seq, body: chunkBody(who, seq, ['"' + "x".repeat(QUEUE_BYTES / 2) + '"']) });
    up.add(big(0)); // in flight
    up.add(big(1));
    up.add(big(2)); // over the bound: chunk 1 goes, chunk 0 is on the wire
    assert.deepEqual(up.pending().map((c) => c.seq), [0, 2]);
    assert.equal(up.dropped(), 1);
    answer(408);
    for (let i = 0; i < 20 && sent.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(sent, [0, 0]); // retried, not dropped as a final answer
    answer(200);
    for (let i = 0; i < 20 && sent.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(sent, [0, 0, 2]);
    answer(200);
    for (let i = 0; i < 20 && up.pending().length; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(up.pending(), []);
    assert.equal(up.dropped(), 1);
  });
});

test("a multi-layer background shorthand gets back the longhands its serialisation loses", () => {
  const style = (v: Record<string, string>) => ({ getPropertyValue: (p: string) => v[p] || "" }) as unknown as CSSStyleDeclaration;
  const two = { "background-image": 'url("a.jpg"), linear-gradient(red, rgb(0, 0, 255))' };
  // background-size given once for two images: CSS repeats it, Chromium's shorthand text does not
  assert.equal(lostLonghands(style({ ...two, "background-size": "cover", "background-repeat": "no-repeat, initial" }), ".a { background: x; }"),
    "background-size: cover; ");
  // every layer given, or set by the shorthand itself: nothing lost
  assert.equal(lostLonghands(style({ ...two, "background-size": "cover, auto" }), ".a { background: x; }"), "");
  assert.equal(lostLonghands(style({ ...two, "background-size": "cover, initial" }), ".a { background: x; }"), "");
  // one layer, or no shorthand in the text: nothing to fix
  assert.equal(lostLonghands(style({ "background-image": 'url("a.jpg")', "background-size": "cover" }), ".a { background: x; }"), "");
  assert.equal(lostLonghands(style({ ...two, "background-size": "cover" }), ".a { background-image: x; }"), "");
});
