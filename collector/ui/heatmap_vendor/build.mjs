// Bundles entry.js into ../static/vendor/heatmap-vendor.js so the viewer never loads code from a CDN.
import { build } from "esbuild";

await build({
  entryPoints: ["entry.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  legalComments: "eof",
  outfile: "../static/vendor/heatmap-vendor.js",
});
