import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { MAX_QUEUE, queue, type Ev } from "../src/queue";
import { backoff, retryAfter, retryable, type Reply } from "../src/retry";
import { bodies, MAX_BODY, transport, type Send } from "../src/transport";
import { mapKv } from "./helpers";

const ev = (i: number, pad = 0): Ev => ({ id: "e" + i, type: "track", ts: 0, name: "x".repeat(pad) });

test("backoff doubles from 1 s with jitter in the upper half, capped at 60 s", () => {
  assert.equal(backoff(0, 0), 500);
  assert.equal(backoff(0, 1), 1000);
  assert.equal(backoff(3, 0), 4000);
  assert.equal(backoff(3, 0.5), 6000);
  assert.equal(backoff(20, 1), 60000);
});

test("one retry policy for events and replay chunks: 408, 429 and 5xx are retried, other answers are final", () => {
  const retried = [200, 204, 400, 401, 403, 404, 408, 413, 415, 422, 429, 500, 502, 503, 504].filter(retryable);
  assert.deepEqual(retried, [408, 429, 500, 502, 503, 504]);
});

test("Retry-After in seconds or as an HTTP date", () => {
  assert.equal(retryAfter("7", 0), 7000);
  assert.equal(retryAfter("0", 0), 0);
  assert.equal(retryAfter(new Date(10_000).toUTCString(), 4000), 6000);
  assert.equal(retryAfter("999999", 0), 3600000);
  assert.equal(retryAfter(null, 0), undefined);
  assert.equal(retryAfter("soon", 0), undefined);
});

test("bodies are valid batches that respect the byte and count limits", () => {
  const evs = Array.from({ length: 50 }, (_, i) => ev(i, 3000));
  const out = bodies("wk", 5, evs, MAX_BODY);
  assert.equal(out.length, 3);
  for (const b of out) {
    assert.ok(Buffer.byteLength(b.body) <= MAX_BODY);
    assert.equal(b.bytes, Buffer.byteLength(b.body));
    const parsed = JSON.parse(b.body);
    assert.equal(parsed.key, "wk");
    assert.equal(parsed.sent_at, 5);
    assert.deepEqual(parsed.events.map((e: Ev) => e.id), b.ids);
  }
  assert.deepEqual(out.flatMap((b) => b.ids), evs.map((e) => e.id));
  assert.equal(bodies("wk", 5, Array.from({ length: 450 }, (_, i) => ev(i)), MAX_BODY).length, 3);
  assert.deepEqual(bodies("wk", 5, [], MAX_BODY), []);
});

test("multi-byte text is counted in bytes, not characters", () => {
  const out = bodies("wk", 5, [ev(1, 0), { id: "e2", type: "track", ts: 0, name: "é".repeat(100) }], 150);
  assert.equal(out.length, 2);
});

test("the queue keeps the newest 1000 events in storage", () => {
  const kv = mapKv();
  const q = queue(kv);
  for (let i = 0; i < MAX_QUEUE + 5; i++) q.push(ev(i));
  const all = queue(kv).all();
  assert.equal(all.length, MAX_QUEUE);
  assert.equal(all[0].id, "e5");
  q.drop(["e5", "e6"]);
  assert.equal(queue(kv).all()[0].id, "e7");
  q.save([]);
  assert.equal(kv.m.has("tm_q"), false);
});

test("a full or broken storage falls back to memory without losing events", () => {
  const kv = mapKv();
  const q = queue({ get: kv.get, set: () => { throw new Error("QuotaExceededError"); } });
  q.push(ev(1));
  q.push(ev(2));
  assert.deepEqual(q.all().map((e) => e.id), ["e1", "e2"]);
  kv.set("tm_q", "{not json");
  assert.deepEqual(queue(kv).all(), []);
});

/** A scripted collector: answers the n-th request with replies[n] ("down" = network error). */
function scripted(replies: (number | "down" | [number, string])[]) {
  const calls: { body: { events: Ev[] }; keepalive: boolean }[] = [];
  const send: Send = (_url, body, keepalive) => {
    calls.push({ body: JSON.parse(body), keepalive });
    const r = replies[calls.length - 1] ?? 200;
    if (r == "down") return Promise.reject(new TypeError("Failed to fetch"));
    const [status, ra] = Array.isArray(r) ? r : [r, null];
    const reply: Reply = { status, headers: { get: (n) => (n == "Retry-After" ? ra : null) } };
    return Promise.resolve(reply);
  };
  return { calls, send };
}

const settle = () => new Promise((r) => setImmediate(r));

test("events are batched for 2 s, or sent at once at 20", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const c = scripted([]);
  const q = queue(mapKv());
  const tx = transport("u", "wk", q, c.send, Date.now, () => 0);
  for (let i = 0; i < 5; i++) tx.add(ev(i));
  assert.equal(c.calls.length, 0);
  t.mock.timers.tick(2000);
  await settle();
  assert.equal(c.calls.length, 1);
  assert.equal(c.calls[0].body.events.length, 5);
  assert.deepEqual(q.all(), []);
  for (let i = 0; i < 20; i++) tx.add(ev(100 + i));
  assert.equal(c.calls.length, 2);
  assert.equal(c.calls[1].body.events.length, 20);
});

test("network errors, 5xx and 429 are retried with backoff; Retry-After wins", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const c = scripted(["down", 503, [429, "30"], 200]);
  const q = queue(mapKv());
  const tx = transport("u", "wk", q, c.send, Date.now, () => 0);
  tx.add(ev(1));
  tx.flush();
  await settle();
  assert.equal(c.calls.length, 1);
  t.mock.timers.tick(499); // first backoff: 500 ms with rand 0
  await settle();
  assert.equal(c.calls.length, 1);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(c.calls.length, 2); // 503
  t.mock.timers.tick(1000); // second backoff: 1000 ms
  await settle();
  assert.equal(c.calls.length, 3); // 429, Retry-After 30 s
  t.mock.timers.tick(29_999);
  await settle();
  assert.equal(c.calls.length, 3);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(c.calls.length, 4);
  assert.deepEqual(q.all(), []);
  assert.deepEqual(c.calls.map((x) => x.body.events[0].id), ["e1", "e1", "e1", "e1"]);
});

test("other 4xx answers are final: the events are dropped, not retried", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const c = scripted([401]);
  const q = queue(mapKv());
  const tx = transport("u", "wk", q, c.send, Date.now, () => 0);
  tx.add(ev(1));
  await tx.flush();
  t.mock.timers.tick(120_000);
  await settle();
  assert.equal(c.calls.length, 1);
  assert.deepEqual(q.all(), []);
});

test("408 is retried like 429; a 200 with per-event rejections drops the whole batch", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const c = scripted([408, 200]);
  const q = queue(mapKv());
  const tx = transport("u", "wk", q, c.send, Date.now, () => 0);
  tx.add(ev(1));
  tx.add(ev(2));
  await tx.flush();
  assert.deepEqual(q.all().map((e) => e.id), ["e1", "e2"]);
  t.mock.timers.tick(500);
  await settle();
  // the scripted 200 stands for {"accepted": 1, "rejected": [{"index": 1, ...}]}: never resent
  assert.equal(c.calls.length, 2);
  assert.deepEqual(q.all(), []);
});

test("a 500 halves the batch until the event behind it is alone, then parks it", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  // e0 makes the collector fail: every request that carries it gets a 500
  const calls: string[][] = [];
  const send: Send = (_url, body) => {
    const ids = (JSON.parse(body).events as Ev[]).map((e) => e.id);
    calls.push(ids);
    const reply: Reply = { status: ids.includes("e0") ? 500 : 200, headers: { get: () => null } };
    return Promise.resolve(reply);
  };
  const q = queue(mapKv());
  const tx = transport("u", "wk", q, send, Date.now, () => 0);
  for (let i = 0; i < 8; i++) q.push(ev(i));
  for (let i = 0; i < 40 && q.all().length > 1; i++) {
    await tx.flush();
    t.mock.timers.tick(60_000);
    await settle();
  }
  assert.deepEqual(calls.slice(0, 4).map((ids) => ids.length), [8, 4, 2, 1]);
  // every other event was delivered; e0 stays queued for the next page, no longer sent on this one
  assert.deepEqual(q.all().map((e) => e.id), ["e0"]);
  const sent = calls.length;
  tx.add(ev(9));
  await tx.flush();
  t.mock.timers.tick(60_000);
  await settle();
  assert.deepEqual(calls.slice(sent).flat(), ["e9"]);
  assert.deepEqual(q.all().map((e) => e.id), ["e0"]);
});

test("coming back online forgets the backoff and sends at once", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const c = scripted(["down", "down"]);
  const q = queue(mapKv());
  const tx = transport("u", "wk", q, c.send, Date.now, () => 1);
  tx.add(ev(1));
  tx.flush();
  await settle();
  t.mock.timers.tick(1000);
  await settle();
  assert.equal(c.calls.length, 2); // the next try would be 2 s later
  tx.online();
  await settle();
  assert.equal(c.calls.length, 3);
  assert.deepEqual(q.all(), []);
});

test("unload hands the outbox to keepalive requests within 60 KB and keeps the rest queued", async () => {
  const c = scripted([]);
  const kv = mapKv();
  const q = queue(kv);
  for (let i = 0; i < 40; i++) q.push(ev(i, 3000));
  const tx = transport("u", "wk", q, c.send);
  tx.unload();
  assert.ok(c.calls.length >= 1);
  assert.ok(c.calls.every((x) => x.keepalive));
  const sent = c.calls.flatMap((x) => x.body.events.map((e) => e.id));
  const bytes = c.calls.reduce((n, x) => n + Buffer.byteLength(JSON.stringify(x.body)), 0);
  assert.ok(bytes <= MAX_BODY, `${bytes} bytes in flight`);
  assert.ok(sent.length < 40);
  await settle();
  assert.equal(queue(kv).all().length, 40 - sent.length);
  tx.unload(); // the next hide sends the rest, never an event twice
  const all = c.calls.flatMap((x) => x.body.events.map((e) => e.id));
  assert.equal(new Set(all).size, all.length);
});

test("a beacon without a reply leaves the events queued for the next page", async () => {
  const q = queue(mapKv());
  q.push(ev(1));
  const tx = transport("u", "wk", q, () => Promise.resolve(undefined));
  tx.unload();
  await settle();
  assert.deepEqual(q.all().map((e) => e.id), ["e1"]);
});

mock.reset();
