import assert from "node:assert/strict";
import { test } from "node:test";
import { identity, parseSession, rollSession, SESSION_MS } from "../src/session";
import { layered } from "../src/storage";
import { mapKv } from "./helpers";

const make = () => "new";

test("a session continues while activity is under 30 minutes apart", () => {
  assert.deepEqual(rollSession({ id: "s1", t: 1000 }, 1000 + SESSION_MS - 1, make), { id: "s1", t: 1000 + SESSION_MS - 1 });
});

test("30 minutes of inactivity starts a new session", () => {
  assert.deepEqual(rollSession({ id: "s1", t: 1000 }, 1000 + SESSION_MS, make), { id: "new", t: 1000 + SESSION_MS });
});

test("no stored session starts one", () => {
  assert.deepEqual(rollSession(null, 5, make), { id: "new", t: 5 });
});

test("a clock that went back keeps the session and its latest activity", () => {
  assert.deepEqual(rollSession({ id: "s1", t: 9000 }, 8000, make), { id: "s1", t: 9000 });
});

test("stored sessions parse, garbage does not", () => {
  assert.deepEqual(parseSession("abc|123"), { id: "abc", t: 123 });
  for (const raw of [null, "", "abc", "abc|x", "a|b|c"]) assert.equal(parseSession(raw), null);
});

test("two tabs sharing storage share one session id", () => {
  const kv = mapKv();
  const a = identity(kv);
  const b = identity(kv);
  const s = a.session(1000);
  assert.equal(b.session(2000), s);
  assert.equal(a.session(2000 + SESSION_MS - 1), s);
  assert.notEqual(b.session(2000 + 2 * SESSION_MS), s);
});

test("anon id is stable, reset forgets user, anon and session", () => {
  const kv = mapKv();
  const id = identity(kv);
  const anon = id.anon();
  assert.match(anon!, /^[0-9a-f-]{36}$/);
  assert.equal(identity(kv).anon(), anon);
  id.identify("u1");
  assert.equal(identity(kv).uid, "u1");
  const s = id.session(1);
  id.reset();
  assert.equal(id.uid, null);
  assert.equal(kv.m.size, 0);
  assert.notEqual(id.anon(), anon);
  assert.notEqual(id.session(2), s);
});

test("cookieless identity stores nothing and has no anon or session id", () => {
  const id = identity(null);
  assert.equal(id.anon(), undefined);
  assert.equal(id.session(1), undefined);
  id.identify("u1");
  assert.equal(id.uid, "u1");
});

test("a store that refuses everything still keeps ids for the page", () => {
  const refusing = { get: () => { throw new Error("blocked"); }, set: () => { throw new Error("blocked"); } };
  const id = identity(layered(refusing));
  const anon = id.anon();
  assert.ok(anon);
  assert.equal(id.anon(), anon);
  assert.equal(id.session(1), id.session(2));
});
