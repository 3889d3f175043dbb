// Copies the pinned uPlot build into static/vendor/ so the dashboard never loads code from a CDN.
import { copyFileSync, mkdirSync } from "node:fs";

const files = [
  ["node_modules/uplot/dist/uPlot.iife.min.js", "static/vendor/uPlot.iife.min.js"],
  ["node_modules/uplot/dist/uPlot.min.css", "static/vendor/uPlot.min.css"],
  ["node_modules/uplot/LICENSE", "static/vendor/uPlot.LICENSE"],
];
mkdirSync("static/vendor", { recursive: true });
for (const [from, to] of files) copyFileSync(from, to);
