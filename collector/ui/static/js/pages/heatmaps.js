// The heatmap viewer: a recorded page rebuilt in a sandboxed iframe, clicks placed in each element's
// current box from rx/ry, a density layer on a canvas, the most clicked elements, and a scroll map.
// Data never becomes markup: text goes through textContent (app.js `h`) or the canvas.
import { $, api, clear, fmt, h, link, navigate, page, params, range } from "../app.js";
import { settleAnimations } from "../replay-player.js";
// A recorded or forged page may claim any size (2e9 px); the frame and the canvas drawn over it
// stay within what a tab can hold: Chromium refuses canvases over 32,767 px a side, and 32 Mpx
// of RGBA is already 128 MB.
const MIN_WIDTH = 320;
const MAX_WIDTH = 3840;
const MAX_HEIGHT = 20000;
const MAX_AREA = 32e6;
// rrweb's meta event (EventType.Meta in @rrweb/types): the recorded viewport's size
const META = 4;

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
  kind: params.get("kind") || "click",
  // an element that was not on the page when it loaded, shown as the page stood when it was clicked
  moment: params.get("hm_moment") || "",
};

function query(extra = {}) {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  const { from, to } = range();
  q.set("from", from);
  q.set("to", to);
  // a variant's heatmap, opened from an experiment's page
  for (const key of ["experiment", "variant"]) if (params.get(key)) q.set(key, params.get(key));
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

/** The device and layer choices, as the collector lists them (GET /api/ui/choices). */
function controls(choices) {
  const device = $("#hm-device");
  device.replaceChildren(...choices.devices.map((d) => h("option", { value: d.value, text: d.label })));
  if (!choices.devices.some((d) => d.value === state.device)) state.device = choices.devices[0].value;
  device.value = state.device;
  device.addEventListener("change", () => navigate({ hm_device: device.value }));
  if (!choices.heatmap_layers.some((k) => k.value === state.kind)) state.kind = "click";
  clear($("#hm-kinds"), choices.heatmap_layers.map((k) => {
    const on = k.value === state.kind;
    return h("button", { type: "button", "data-kind": k.value, role: "radio", class: on ? "active" : undefined,
      "aria-checked": String(on), onclick: () => navigate({ kind: k.value }), text: k.label });
  }));
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

// Viewport-height units in the recorded page's CSS. The frame shows the whole page at once, so it
// is as tall as the page: left alone, `height: 100vh` would become the page's height (a 3,800 px
// hero pushing everything below it down), so they are pinned to the recorded viewport in px. A
// number glued to a word or a dash before it (`img-100vh.png`) is no length and stays.
const VIEWPORT_UNITS = /(?<![\w.-])(-?\d*\.?\d+)(s|l|d)?(vh|vmin|vmax)\b/g;

/** CSS text with vh/svh/lvh/dvh/vmin/vmax lengths replaced by px for a `width` x `height` viewport. */
export function pinViewportUnits(css, width, height) {
  return css.replace(VIEWPORT_UNITS, (_, n, _kind, unit) => {
    const base = unit === "vh" ? height : unit === "vmin" ? Math.min(width, height) : Math.max(width, height);
    return `${Math.round(Number(n) * base) / 100}px`;
  });
}

/** Pin the viewport units of every <style> and style attribute of the rebuilt page (see above). */
function pinViewport(doc, width, height) {
  const has = /\d(s|l|d)?(vh|vmin|vmax)\b/;
  for (const style of doc.querySelectorAll("style")) {
    if (has.test(style.textContent)) style.textContent = pinViewportUnits(style.textContent, width, height);
  }
  for (const el of doc.querySelectorAll("[style]")) {
    const text = el.getAttribute("style");
    if (has.test(text)) el.setAttribute("style", pinViewportUnits(text, width, height));
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
  pinViewport(doc, width, recorded.height);
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
      points.push(...cellPoints(el.cells, grid, box));
    } else if (!doc || !el.sel) {
      // a plain page, or a click with no element: its page position is all there is
      for (const [px, py, n] of el.points) points.push([(px + 0.5) * size, (py + 0.5) * size, n]);
    }
    // else: the element was not on the page when the snapshot was taken (a menu opened later, a
    // list the app rendered after load). Its page position would put heat on whatever the snapshot
    // shows there instead; the list offers it as the page stood when it was clicked (showMoment).
  }
  return points;
}

/** [x, y, n] at the centre of each grid cell of `box` (cells [gx, gy, n] from the API). */
function cellPoints(cells, grid, box) {
  return cells.map(([gx, gy, n]) => [box.left + ((gx + 0.5) / grid) * box.width, box.top + ((gy + 0.5) / grid) * box.height, n]);
}

/** A script of ours by its path from this file, loaded once. */
function loadScript(path) {
  return new Promise((resolve, reject) => {
    const script = h("script", { src: new URL(path, import.meta.url).href });
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error(`${path} failed to load`)));
    document.head.append(script);
  });
}

/** The replay page's player (rrweb-player), loaded only when a moment is shown. */
async function loadPlayer() {
  if (!window.rrwebPlayer) {
    document.head.append(h("link", { rel: "stylesheet", href: new URL("../../vendor/rrweb-player.min.css", import.meta.url).href }));
    await loadScript("../../vendor/rrweb-player.min.js");
  }
  return window.rrwebPlayer;
}

/** The recording of a session from its start up to `ts` (page by page, as the replay page loads it). */
async function recordingUntil(sessionId, ts) {
  const events = [];
  let from = 0;
  for (;;) {
    const page = await api(`/api/sessions/${encodeURIComponent(sessionId)}/replay`, { query: query({ from_seq: from }) });
    events.push(...page.events);
    const last = page.events.length ? page.events[page.events.length - 1].timestamp : 0;
    if (page.next_seq === null || page.next_seq === undefined || last > ts) return events;
    from = page.next_seq;
  }
}

/**
 * Rebuild the page as it stood when `sel` was clicked: the newest recorded click on it, the
 * session's recording replayed (rrweb, sandboxed, nothing recorded runs) up to that moment, and
 * that element's heat drawn on it there. Resolves to a sentence for the status line.
 */
async function showMoment(stage, canvas, data, sel) {
  const el = data.elements.find((e) => e.sel === sel);
  if (!el) return `${sel}: no clicks on this element in this range.`;
  let moment;
  try {
    moment = await api("/api/heatmap/moment", { query: query({ url: state.page, device: state.device, sel }) });
  } catch (error) {
    if (error.status === 404) return `${sel} cannot be shown: no recorded session holds a click on it (turn on session replay, data-replay, to record some).`;
    throw error;
  }
  const [vendor, events] = await Promise.all([loadPlayer(), recordingUntil(moment.session_id, moment.ts)]);
  const meta = events.find((e) => e.type === META);
  if (events.length < 2 || !meta) return `${sel} cannot be shown: its recording is incomplete.`;
  const { width, height } = clampSize(meta.data.width, meta.data.height);
  const Player = vendor.Player || vendor.default || vendor;
  const holder = h("div", { class: "hm-moment" });
  stage.prepend(holder);
  const player = withoutReferrer(() => new Player({
    target: holder,
    props: { events, width, height, autoPlay: false, showController: false, mouseTail: false, skipInactive: false },
  }));
  player.goto(Math.max(0, moment.ts - events[0].timestamp), false);
  await new Promise((resolve) => setTimeout(resolve, 300)); // recorded styles and images settle
  settleAnimations(player.getReplayer(), events, moment.ts);
  const frame = holder.querySelector("iframe");
  fit(stage, width, height);
  sizeCanvas(canvas, width, height);
  const box = resolve(frame.contentDocument, sel);
  if (!box) return `${sel} cannot be shown: it is not on the recorded page at the moment it was clicked.`;
  // the frame's place in the stage, in page px (the player may scale and centre it)
  const scale = Number(stage.dataset.scale) || 1;
  const s = stage.getBoundingClientRect();
  const f = frame.getBoundingClientRect();
  const k = f.width / frame.offsetWidth / scale;
  const at = { left: (f.left - s.left) / scale + box.left * k, top: (f.top - s.top) / scale + box.top * k,
    width: box.width * k, height: box.height * k };
  drawHeat(canvas, cellPoints(el.cells, data.grid, at));
  document.body.dataset.moment = sel;
  return `${sel} as the page stood when it was clicked (${new Date(moment.ts).toLocaleString()}): ${fmt.int(el.count)} clicks in the range.`;
}

/** Show the page at its recorded width, scaled down (never up) to the panel's width. */
function fit(stage, width, height) {
  const available = $("#hm-scroller").clientWidth || width;
  const scale = Math.min(1, available / width);
  stage.style.width = `${width}px`;
  stage.style.height = `${height}px`;
  stage.style.transform = scale < 1 ? `scale(${scale})` : "";
  // a phone's page is narrow and tall: shown whole, the dashboard page scrolls, not a box inside it
  $("#hm-scroller").classList.toggle("hm-whole", state.device === "mobile");
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
      el.resolved === false && el.sel ? h("div", { class: "hm-missing" },
        h("span", { text: "Not on the page when it loaded (it appeared later): not drawn here. " }),
        h("button", { type: "button", class: "hm-show", "data-show": el.sel, text: "Show as clicked" })) : null),
    h("td", { class: "num", text: fmt.int(el.count) }),
    h("td", { class: "num", text: fmt.pct(el.share) }),
    // the sessions behind the hotspot (clicked on this page), with their replays
    h("td", {}, el.sel ? h("a", { class: "hm-sessions", href: link("/sessions", { clicked: el.sel, page: state.page }),
      title: "Sessions that clicked this element on this page", text: "Sessions" }) : "")));
  for (const row of rows) {
    const show = row.querySelector("[data-show]");
    if (show) show.addEventListener("click", () => navigate({ hm_moment: show.dataset.show }));
  }
  clear(list, h("table", { class: "table", id: "hm-elements" },
    h("thead", {}, h("tr", {}, h("th", { class: "num", text: "#" }), h("th", { text: "Element" }),
      h("th", { class: "num", text: "Clicks" }), h("th", { class: "num", text: "Share" }), h("th", { text: "" }))),
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
  const choices = await api("/api/ui/choices");
  controls(choices);
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
  if (state.moment && kind === "click") {
    stage.classList.remove("plain");
    placeClicks(data, null);
    elementList(data);
    const back = h("button", { type: "button", class: "hm-back", text: "Back to the page" });
    back.addEventListener("click", () => navigate({ hm_moment: "" }));
    status(await showMoment(stage, canvas, data, state.moment));
    $("#hm-status").append(" ", back);
    legend(kind);
    document.body.dataset.heatmap = "moment";
    return;
  }
  let doc = null;
  let width = choices.devices.find((d) => d.value === state.device).width;
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
  legend(kind);
  document.body.dataset.heatmap = found ? "snapshot" : "plain";
}

/** What the colours mean: the heat layer's gradient, or the scroll map's reach. */
function legend(kind) {
  let node = $("#hm-legend");
  if (!node) {
    node = h("div", { class: "legend-scale", id: "hm-legend" });
    $("#hm-status").after(node);
  }
  const [low, high, cls] = kind === "click"
    ? ["fewer clicks", "most clicks", "hm-legend-bar heat"]
    : ["few visitors reach", "most visitors reach", "hm-legend-bar reach"];
  clear(node, h("span", { text: low }), h("span", { class: cls, role: "img", "aria-label": `colour scale from ${low} to ${high}` }), h("span", { text: high }));
}

page(render);
