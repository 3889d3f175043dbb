import assert from "node:assert/strict";
import { test } from "node:test";
import { assign, fnv1a, pinned, problem } from "../src/experiment";

test("fnv1a: the published 32-bit vectors", () => {
  assert.equal(fnv1a(""), 0x811c9dc5);
  assert.equal(fnv1a("a"), 0xe40c292c);
  assert.equal(fnv1a("foobar"), 0xbf9cf968);
});

test("assign: a weight of 0 is never chosen, the same id always gets the same variant", () => {
  for (let i = 0; i < 500; i++) {
    const v = assign("k", "id-" + i, ["a", "never", "b"], [1, 0, 1]);
    assert.notEqual(v, "never");
    assert.equal(assign("k", "id-" + i, ["a", "never", "b"], [1, 0, 1]), v);
  }
});

test("pinned: the query parameter wins over the cookie; a bad cookie pins nothing", () => {
  assert.equal(pinned("cta", "?x=1&tm_variant_cta=green", "tm_variant_cta=control"), "green");
  assert.equal(pinned("cta", "", "a=1; tm_variant_cta=control"), "control");
  assert.equal(pinned("cta", "?tm_variant_other=green", "tm_variant_ctax=green"), null);
  assert.equal(pinned("cta", "", "tm_variant_cta=%E0%A4%A"), null);
});

test("problem: names, distinct variants and usable weights", () => {
  assert.equal(problem("k", ["a", "b"], undefined), "");
  assert.equal(problem("k", ["a", "b"], [9, 1]), "");
  assert.equal(problem("", ["a"], undefined), "invalid key");
  assert.equal(problem("k", [], undefined), "invalid variants");
  assert.equal(problem("k", ["a", 2], undefined), "invalid variants");
  assert.equal(problem("k", ["a", "a"], undefined), "variants must be distinct");
  assert.equal(problem("k", ["a", "b"], [1]), "invalid weights");
  assert.equal(problem("k", ["a", "b"], [0, 0]), "invalid weights");
  assert.equal(problem("k", ["a", "b"], [1, NaN]), "invalid weights");
});
