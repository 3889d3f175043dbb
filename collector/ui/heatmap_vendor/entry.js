// What the heatmap viewer takes from npm: rrweb-snapshot's sandboxed rebuild and simpleheat.
import { rebuildIntoSandboxedIframe } from "rrweb-snapshot";
import simpleheat from "simpleheat";

window.TrailmarkHeatmapVendor = { rebuildIntoSandboxedIframe, simpleheat };
