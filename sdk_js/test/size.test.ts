import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { gzipSync } from "node:zlib";

// run after `node build.mjs`, from sdk_js/dist/test/
const bundle = (name: string) => readFileSync(new URL("../../../collector/static/" + name, import.meta.url));
export const BUDGET = 5 * 1024;

test("the core is at most 5 KiB gzipped", () => {
  const gz = gzipSync(bundle("trailmark.js"), { level: 9 }).length;
  assert.ok(gz <= BUDGET, `trailmark.js is ${gz} bytes gzipped, over ${BUDGET}`);
});

test("the core and its lazy vitals part contain no rrweb code", () => {
  for (const name of ["trailmark.js", "trailmark-vitals.js"]) {
    const src = bundle(name).toString();
    assert.doesNotMatch(src, /rrweb|rr_|MutationBuffer|takeFullSnapshot|__sn/i, name);
  }
});
