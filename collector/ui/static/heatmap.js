// The heatmap viewer: a recorded page rebuilt in a sandboxed iframe, clicks placed in each element's
// current box from rx/ry, a density layer on a canvas, the most clicked elements, and a scroll map.
// Data never becomes markup: text goes through textContent (app.js `h`) or the canvas.
import { $, api, clear, fmt, h, navigate, page, params, range } from "./js/app.js";

const DEVICE_WIDTH = { desktop: 1280, tablet: 820, mobile: 390 }; // plain-page widths without a snapshot
const KINDS = ["click", "rage", "scroll"];
// A recorded or forged page may claim any size (2e9 px); the frame and the canvas drawn over it
// stay within what a tab can hold: Chromium refuses canvases over 32,767 px a side, and 32 Mpx
// of RGBA is already 128 MB.
const MIN_WIDTH = 320;
const MAX_WIDTH = 3840;
const MAX_HEIGHT = 20000;
const MAX_AREA = 32e6;

/** A page size the viewer can draw: whole pixels within the bounds above (not a number: the floor). */
export function clampSize(width, height) {
  const w = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(Number(width)) || MIN_WIDTH));
  const h = Math.min(MAX_HEIGHT, Math.floor(MAX_AREA / w), Math.max(200, Math.round(Number(height)) || 200));
  return { width: w, height: h };
}

// The viewer's own choices carry an hm_ prefix: `page` and `device` are the dashboard's session
// filters, which would otherwise show as filter chips and be saved into segments.
const state = {
  page: params.get("hm_page") || "",
  device: params.get("hm_device") || "desktop",
  kind: KINDS.includes(params.get("kind")) ? params.get("kind") : "click",
};

function query(extra = {}) {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  const { from, to } = range();
  q.set("from", from);
  q.set("to", to);
  for (const [key, value] of Object.entries(extra)) if (value !== "" && value !== undefined) q.set(key, value);
  return q;
}

function status(text) {
  $("#hm-status").textContent = text;
}

async function choosePage() {
  const data = await api("/api/heatmap/pages", { query: query() });
  const select = $("#hm-page");
  const routes = data.pages.map((p) => p.route);
  if (state.page && !routes.includes(state.page)) routes.unshift(state.page);
  for (const p of data.pages) select.append(h("option", { value: p.route, text: `${p.route} (${fmt.int(p.clicks)} clicks)` }));
  if (state.page && !data.pages.some((p) => p.route === state.page)) select.prepend(h("option", { value: state.page, text: state.page }));
  if (!state.page && routes.length) state.page = routes[0];
  select.value = state.page;
  select.addEventListener("change", () => navigate({ hm_page: select.value }));
}

function controls() {
  const device = $("#hm-device");
  device.value = state.device;
  device.addEventListener("change", () => navigate({ hm_device: device.value }));
  for (const button of document.querySelectorAll("[data-kind]")) {
    const on = button.dataset.kind === state.kind;
    button.classList.toggle("active", on);
    button.setAttribute("aria-checked", String(on));
    button.addEventListener("click", () => navigate({ kind: button.dataset.kind }));
  }
}

/**
 * Run `build` while this page's referrer policy is no-referrer. An about:blank frame takes the
 * policy its parent has when the frame is created, so the frame that shows recorded content sends
 * no Referer, not even to the collector; the dashboard itself goes back to same-origin, because a
 * form post from a no-referrer page carries `Origin: null`, which the logout check refuses.
 */
function withoutReferrer(build) {
  let meta = document.querySelector('meta[name="referrer"]');
  if (!meta) meta = document.head.appendChild(h("meta", { name: "referrer" }));
  meta.setAttribute("content", "no-referrer");
  try {
    return build();
  } finally {
    meta.setAttribute("content", "same-origin");
  }
}

/** Rebuild the snapshot in a sandboxed iframe (no allow-scripts); resolves to its document or null. */
async function rebuild(stage, found) {
  const vendor = window.TrailmarkHeatmapVendor;
  if (!vendor) throw new Error("the heatmap bundle failed to load");
  const recorded = clampSize(found.meta.data.width, found.meta.data.height || 800);
  const width = recorded.width;
  const { iframe } = withoutReferrer(() => vendor.rebuildIntoSandboxedIframe(found.snapshot.data.node, {
    root: stage,
    iframeAttributes: {
      class: "hm-frame", title: "Recorded page", scrolling: "no", tabindex: "-1", referrerpolicy: "no-referrer",
    },
  }));
  iframe.style.width = `${width}px`;
  iframe.style.height = `${recorded.height}px`;
  const doc = iframe.contentDocument;
  // Let recorded styles and images settle before measuring the page's full height.
  await new Promise((resolve) => setTimeout(resolve, 250));
  let height = clampSize(width, Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0)).height;
  iframe.style.height = `${height}px`;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  height = clampSize(width, Math.max(height, doc.documentElement.scrollHeight)).height;
  iframe.style.height = `${height}px`;
  return { doc, width, height };
}

/** The element a selector names in the rebuilt page, or null (invalid, missing or not laid out). */
function resolve(doc, sel) {
  if (!doc || !sel) return null;
  let el = null;
  try {
    el = doc.querySelector(sel);
  } catch {
    return null;
  }
  if (!el) return null;
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 ? box : null;
}

/** Weighted points [x, y, n] on the page: cells inside resolved boxes, page points for the rest. */
function placeClicks(data, doc) {
  const points = [];
  const grid = data.grid;
  const size = data.point_px;
  for (const el of data.elements) {
    const box = resolve(doc, el.sel);
    el.resolved = doc ? Boolean(box) : undefined; // without a snapshot nothing can be found
    if (box && el.cells.length) {
      for (const [gx, gy, n] of el.cells) {
        points.push([box.left + ((gx + 0.5) / grid) * box.width, box.top + ((gy + 0.5) / grid) * box.height, n]);
      }
    } else {
      for (const [px, py, n] of el.points) points.push([(px + 0.5) * size, (py + 0.5) * size, n]);
    }
  }
  return points;
}

/** Show the page at its recorded width, scaled down (never up) to the panel's width. */
function fit(stage, width, height) {
  const available = $("#hm-scroller").clientWidth || width;
  const scale = Math.min(1, available / width);
  stage.style.width = `${width}px`;
  stage.style.height = `${height}px`;
  stage.style.transform = scale < 1 ? `scale(${scale})` : "";
  const sizer = $("#hm-sizer");
  sizer.style.width = `${Math.ceil(width * scale)}px`;
  sizer.style.height = `${Math.ceil(height * scale)}px`;
  stage.dataset.scale = String(scale);
}

function sizeCanvas(canvas, width, height) {
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
}

function drawHeat(canvas, points) {
  const vendor = window.TrailmarkHeatmapVendor;
  const heat = vendor.simpleheat(canvas);
  const max = Math.max(1, ...points.map((p) => p[2]));
  heat.data(points).max(max).radius(18, 14);
  heat.draw(0.25); // the least clicked spots stay visible
}

function shade(share) {
  // warm where most visitors are, cold where few reach
  const hue = Math.round(240 * (1 - share));
  return `hsla(${hue}, 85%, 50%, 0.28)`;
}

function drawScroll(canvas, data, height) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!data.views) return;
  for (let i = 0; i < data.bands.length - 1; i++) {
    const a = data.bands[i];
    const b = data.bands[i + 1];
    const y0 = (a.depth / 100) * height;
    const y1 = (b.depth / 100) * height;
    ctx.fillStyle = shade(b.share);
    ctx.fillRect(0, y0, canvas.width, y1 - y0);
  }
  ctx.font = "600 13px system-ui, sans-serif";
  for (const mark of [0.75, 0.5, 0.25]) {
    const depth = data.reached.findIndex((n) => n / data.views < mark);
    if (depth < 0) continue;
    const y = (depth / 100) * height;
    ctx.fillStyle = "rgba(17,24,39,0.85)";
    ctx.fillRect(0, y - 1, canvas.width, 2);
    label(ctx, `${Math.round(mark * 100)}% of visitors reached here`, 8, y - 6);
  }
  if (data.avg_fold_px) {
    const y = data.avg_fold_px;
    ctx.setLineDash([8, 6]);
    ctx.strokeStyle = "#dc2626";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(canvas.width, y);
    ctx.stroke();
    ctx.setLineDash([]);
    label(ctx, `Average fold (${fmt.int(y)} px)`, canvas.width - 200, y - 6);
  }
}

function label(ctx, text, x, y) {
  const w = ctx.measureText(text).width + 10;
  ctx.fillStyle = "rgba(255,255,255,0.92)";
  ctx.fillRect(x - 5, y - 14, w, 19);
  ctx.fillStyle = "#111827";
  ctx.fillText(text, x, y);
}

function elementList(data) {
  const list = $("#hm-list");
  if (!data.elements.length) {
    clear(list, h("p", { class: "empty", text: "No clicks on this page for this device and range." }));
    return;
  }
  const rows = data.elements.slice(0, 50).map((el, i) => h("tr", { "data-sel": el.sel || "" },
    h("td", { class: "num", text: String(i + 1) }),
    h("td", { class: "hm-el" },
      h("div", { text: el.text || (el.tag ? `<${el.tag}>` : "(no element)") }),
      h("div", { class: "mono muted", text: el.sel || "page position only" }),
      el.resolved === false && el.sel ? h("div", { class: "hm-missing", text: "not on this snapshot: drawn at page position" }) : null),
    h("td", { class: "num", text: fmt.int(el.count) }),
    h("td", { class: "num", text: fmt.pct(el.share) })));
  clear(list, h("table", { class: "table", id: "hm-elements" },
    h("thead", {}, h("tr", {}, h("th", { class: "num", text: "#" }), h("th", { text: "Element" }),
      h("th", { class: "num", text: "Clicks" }), h("th", { class: "num", text: "Share" }))),
    h("tbody", {}, rows)));
}

function scrollList(data) {
  $("#hm-side-title").textContent = "Scroll reach";
  const rows = data.bands.filter((b) => b.depth % 10 === 0).map((b) => h("tr", {},
    h("td", { class: "num", text: `${b.depth}%` }),
    h("td", { class: "num", text: fmt.int(b.views) }),
    h("td", { class: "num", text: fmt.pct(b.share) })));
  clear($("#hm-list"),
    h("p", { class: "muted", text: `${fmt.int(data.views)} pageviews; average fold ${data.avg_fold_px ? fmt.int(data.avg_fold_px) + " px" : "unknown"}` }),
    h("table", { class: "table", id: "hm-scroll" },
      h("thead", {}, h("tr", {}, h("th", { class: "num", text: "Depth" }), h("th", { class: "num", text: "Pageviews" }),
        h("th", { class: "num", text: "Reached" }))),
      h("tbody", {}, rows)));
}

async function render() {
  controls();
  await choosePage();
  const stage = $("#hm-stage");
  const canvas = $("#hm-canvas");
  if (!state.page) {
    status("No clicks or scroll reports in this range yet.");
    return;
  }
  const scope = { url: state.page, device: state.device };
  const kind = state.kind === "scroll" ? "scroll" : "click";
  const [data, found] = await Promise.all([
    api("/api/heatmap", { query: query({ ...scope, kind, rage: state.kind === "rage" ? "1" : "" }) }),
    api("/api/heatmap/snapshot", { query: query(scope) }).catch((error) => {
      if (error.status === 404) return null;
      throw error;
    }),
  ]);
  let doc = null;
  let width = DEVICE_WIDTH[state.device];
  let height = 0;
  if (found) {
    ({ doc, width, height } = await rebuild(stage, found));
    stage.classList.remove("plain");
  } else {
    stage.classList.add("plain");
  }
  const points = kind === "click" ? placeClicks(data, doc) : [];
  if (!found) {
    const lowest = Math.max(0, ...points.map((p) => p[1]));
    height = clampSize(width, Math.max(900, lowest + 120, data.avg_fold_px ? data.avg_fold_px * 2 : 0)).height;
  }
  fit(stage, width, height);
  sizeCanvas(canvas, width, height);
  const where = `${state.page} · ${state.device}`;
  const missing = found ? "" : ` No recorded snapshot of this page for ${state.device}: turn on session replay (data-replay) to record one. Showing positions on a plain page.`;
  if (kind === "click") {
    drawHeat(canvas, points);
    elementList(data);
    status(`${fmt.int(data.total)} ${state.kind === "rage" ? "rage clicks" : "clicks"} on ${where}.${missing}`);
  } else {
    drawScroll(canvas, data, height);
    scrollList(data);
    status(`${fmt.int(data.views)} pageviews with a scroll report on ${where}.${missing}`);
  }
  document.body.dataset.heatmap = found ? "snapshot" : "plain";
}

page(render);
