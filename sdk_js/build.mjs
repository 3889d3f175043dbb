// Builds the browser bundles into collector/static/ and, with --tests, the unit tests into dist/test/.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { minify } from "terser";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "collector", "static");
mkdirSync(outDir, { recursive: true });

const browser = {
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020"],
  legalComments: "none",
  logLevel: "warning",
};

// The core and its small lazy parts get a second compression pass with terser: it wins the last
// few hundred bytes of the core's 5 KiB gzip budget that esbuild's single pass leaves.
const squeeze = { ecma: 2020, compress: { passes: 3, hoist_funs: true, unsafe: true, unsafe_arrows: true, pure_getters: true }, mangle: true };

// The core is always built; the replay module (issue 5) is built when its entry exists.
const bundles = [
  ["src/index.ts", "trailmark.js", true],
  ["src/ext/vitals.ts", "trailmark-vitals.js", true],
  ["src/ext/experiments.ts", "trailmark-experiments.js", true],
  ["src/replay.ts", "trailmark-replay.js"],
  ["src/replay/index.ts", "trailmark-replay.js"],
];
for (const [entry, out, small] of bundles) {
  if (existsSync(join(here, entry))) {
    const outfile = join(outDir, out);
    await build({ ...browser, entryPoints: [join(here, entry)], outfile });
    if (small) writeFileSync(outfile, (await minify(readFileSync(outfile, "utf8"), squeeze)).code);
  }
}

// Session replay (issue 5): the dashboard's player, copied from its pinned npm package so no page loads a CDN.
const vendor = join(here, "..", "collector", "ui", "static", "vendor");
mkdirSync(vendor, { recursive: true });
for (const [from, to] of [
  ["node_modules/rrweb-player/dist/rrweb-player.umd.min.cjs", "rrweb-player.min.js"],
  ["node_modules/rrweb-player/dist/style.min.css", "rrweb-player.min.css"],
]) {
  copyFileSync(join(here, from), join(vendor, to));
}

if (process.argv.includes("--tests")) {
  const testDir = join(here, "test");
  const entryPoints = readdirSync(testDir)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => join(testDir, f));
  await build({
    entryPoints,
    bundle: true,
    platform: "node",
    format: "esm",
    target: ["node20"],
    outdir: join(here, "dist", "test"),
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
}
