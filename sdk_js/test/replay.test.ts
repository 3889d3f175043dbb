import assert from "node:assert/strict";
import { test } from "node:test";
import { chunkBody, loadPending, nextSeq, PENDING_BYTES, savePending } from "../src/replay/chunks";
import { recordOptions } from "../src/replay/options";
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

test("inputs are always masked; mask-all-text is opt-in", () => {
  assert.equal(recordOptions({}).maskAllInputs, true);
  assert.equal(recordOptions({}).maskTextSelector, "[data-tm-mask]");
  assert.equal(recordOptions({ replayMask: "all" }).maskTextSelector, "*");
  assert.equal(recordOptions({}).blockSelector, "[data-tm-block]");
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
