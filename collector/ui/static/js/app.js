// Shared dashboard helpers: DOM building without innerHTML, the API client, formatting, the toolbar.
// Every string that comes from data goes through textContent or an attribute setter, never markup.

export const FILTERS = [
  // [param, label, kind]: the analyst API's session filters (collector/query/scope.py), applied on every page.
  ["country", "Country", "text"],
  ["region", "Region", "text"],
  ["device", "Device", "select:desktop,tablet,mobile"],
  ["browser", "Browser", "text"],
  ["os", "OS", "text"],
  ["page", "Page visited", "text"],
  ["entry", "Entry page", "text"],
  ["exit", "Exit page", "text"],
  ["referrer", "Referrer", "text"],
  ["channel", "Channel", "text"],
  ["campaign", "Campaign", "text"],
  ["source", "UTM source", "text"],
  ["user", "User id", "text"],
  ["min_duration", "Min duration (s)", "number"],
  ["converted", "Converted", "bool"],
  ["abandoned", "Abandoned cart", "bool"],
  ["replay", "Has replay", "bool"],
  ["frustrated", "Frustrated", "bool"],
  ["clicked", "Clicked element", "text"],
  ["error", "JS error", "text"],
  ["experiment", "Experiment", "text"],
  ["variant", "Variant", "text"],
  ["outcome", "Likely outcome", "select:likely,at_risk"],
];
const FILTER_KEYS = FILTERS.map(([key]) => key);
const CARRIED = ["site", "from", "to", "segment", "goal", ...FILTER_KEYS];
// The filters /api/suggest knows values for.
const SUGGESTED = new Set(["country", "region", "device", "browser", "os", "channel", "campaign", "source", "page", "entry", "exit", "referrer"]);

export const $ = (selector, root = document) => root.querySelector(selector);

/** Build an element: attrs are set as properties/attributes; children are nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const node = tag === "svg" || attrs.svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false || name === "svg") continue;
    if (name === "class") node.setAttribute("class", value);
    else if (name === "text") node.textContent = String(value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  return h(tag, { ...attrs, svg: true }, ...children);
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// ---- state in the URL: site, dates, segment and filters travel with every link ----

export const params = new URLSearchParams(location.search);

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** The date `offset` days from the site's today (its time zone's calendar, as the API counts days). */
function siteDay(now, offset = 0) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: site.timezone, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date(now)).map((p) => [p.type, p.value]));
  // date arithmetic on the calendar date alone: a 23- or 25-hour day is still one day
  return isoDay(new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day) + offset)));
}

export function range() {
  const now = Date.now();
  return { from: params.get("from") || siteDay(now, -29), to: params.get("to") || siteDay(now) };
}

/** The date presets (days of the site's time zone, as the API counts them): [key, label, () => {from, to}]. */
export const PRESETS = [
  ["today", "Today", (d) => ({ from: d(0), to: d(0) })],
  ["yesterday", "Yesterday", (d) => ({ from: d(-1), to: d(-1) })],
  ["7d", "Last 7 days", (d) => ({ from: d(-6), to: d(0) })],
  ["30d", "Last 30 days", (d) => ({ from: d(-29), to: d(0) })],
  ["90d", "Last 90 days", (d) => ({ from: d(-89), to: d(0) })],
  ["month", "This month", (d, m) => ({ from: m(0), to: d(0) })],
  ["last-month", "Last month", (d, m) => ({ from: m(-1), to: isoDay(new Date(Date.parse(`${m(0)}T00:00:00Z`) - 86400000)) })],
];

/** A preset's dates from `now` (ms). */
export function presetRange(key, now = Date.now()) {
  const found = PRESETS.find(([k]) => k === key);
  if (!found) return null;
  const day = (offset) => siteDay(now, offset);
  const month = (offset) => {
    const [year, monthOfYear] = siteDay(now).split("-").map(Number);
    return isoDay(new Date(Date.UTC(year, monthOfYear - 1 + offset, 1)));
  };
  return found[2](day, month);
}

/** The preset the current dates are, or "custom". */
function currentPreset() {
  const { from, to } = range();
  const found = PRESETS.find(([key]) => {
    const r = presetRange(key);
    return r.from === from && r.to === to;
  });
  return found ? found[0] : "custom";
}

export function filters() {
  const out = {};
  for (const key of FILTER_KEYS) if (params.get(key)) out[key] = params.get(key);
  return out;
}

/** The query every API call carries: site, from, to and the active filters. */
export function scope(extra = {}) {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  const { from, to } = range();
  q.set("from", from);
  q.set("to", to);
  if (params.get("segment")) q.set("segment", params.get("segment"));
  if (params.get("goal")) q.set("goal", params.get("goal"));
  for (const [key, value] of Object.entries({ ...filters(), ...extra })) {
    if (value !== undefined && value !== null && value !== "") q.set(key, value);
  }
  return q;
}

/** A dashboard link that keeps the current site, dates, segment and filters. */
export function link(path, extra = {}) {
  const q = new URLSearchParams();
  for (const key of CARRIED) if (params.get(key)) q.set(key, params.get(key));
  for (const [key, value] of Object.entries(extra)) q.set(key, value);
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

export function navigate(changes) {
  const q = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === null || value === "") q.delete(key);
    else q.set(key, value);
  }
  const text = q.toString();
  location.assign(text ? `${location.pathname}?${text}` : location.pathname);
}

// ---- the API ----

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, { query, method = "GET", body } = {}) {
  const url = query ? `${path}?${query}` : path;
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, "signed out");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || `HTTP ${response.status}`);
  return data;
}

/** Show an API failure in place of the content it should have produced. */
export function failure(node, error) {
  const text = error && error.message ? error.message : String(error);
  // A 400 is about what was asked (a reversed date range, a bad filter): its sentence is the message.
  const message = error && error.status === 404 && /not found|no route/i.test(error.message)
    ? "This report is not available on this collector yet."
    : error && error.status === 400 ? `${text.charAt(0).toUpperCase()}${text.slice(1)}.` : `Could not load: ${text}`;
  clear(node, h("p", { class: "alert", role: "alert", text: message }));
}

// ---- formatting ----

const intFormat = new Intl.NumberFormat("en-US");
const decimalMoney = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const moneyFormats = new Map();
const regionNames = new Intl.DisplayNames(["en"], { type: "region" });
export const plural = (n, word) => `${fmt.int(n)} ${word}${n === 1 ? "" : "s"}`;

/** What the page knows about the chosen site once the toolbar has loaded it: its currency. */
export const site = { currency: null, timezone: "UTC" };

function moneyFormat(currency) {
  if (!currency) return decimalMoney;
  if (!moneyFormats.has(currency)) {
    let format = decimalMoney;
    try {
      format = new Intl.NumberFormat("en-US", { style: "currency", currency, currencyDisplay: "code" });
    } catch {
      // not an ISO 4217 code: the amount alone, the code after it
      format = { format: (v) => `${decimalMoney.format(v)} ${currency}` };
    }
    moneyFormats.set(currency, format);
  }
  return moneyFormats.get(currency);
}

// Acquisition channels as collector/enrich/acquisition.py names them, in words.
const CHANNELS = {
  direct: "Direct", organic_search: "Organic search", paid_search: "Paid search", organic_social: "Organic social",
  paid_social: "Paid social", email: "Email", referral: "Referral", internal: "Internal",
};

export const fmt = {
  int: (v) => (v === null || v === undefined ? "–" : intFormat.format(Math.round(v))),
  num: (v, digits = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits)),
  pct: (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`),
  /** An amount with its currency (the event's, else the site's) and thousands separators. */
  money: (v, currency) => (v === null || v === undefined ? "–" : moneyFormat(currency || site.currency).format(Number(v))),
  country: (code) => {
    if (!code) return "–";
    try {
      return regionNames.of(String(code).toUpperCase()) || code;
    } catch {
      return code;  // not a region code (a hand-made value): shown as stored
    }
  },
  channel: (name) => (name ? CHANNELS[name] || String(name).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()) : "–"),
  duration: (seconds) => {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
  },
  datetime: (ms) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) : "–"),
  short: (ms) => {
    if (!ms) return "–";
    const d = new Date(ms);
    return `${d.toLocaleString("en-US", { month: "short", day: "numeric", timeZone: "UTC" })}, ${d.toISOString().slice(11, 16)}`;
  },
  time: (ms) => (ms ? new Date(ms).toISOString().slice(11, 19) : "–"),
  day: (ms) => new Date(ms).toISOString().slice(0, 10),
};

/** A long visitor id cut to its start; the whole id is on hover and in the link. */
export function shortId(id, keep = 10) {
  const text = String(id ?? "");
  return text.length > keep + 1 ? `${text.slice(0, keep)}…` : text;
}

/** A delta badge: `change` is the relative change against the previous period (null: nothing before). */
export function delta(change, { lowerIsBetter = false } = {}) {
  if (change === null || change === undefined) return h("div", { class: "delta", text: "no previous data" });
  const better = lowerIsBetter ? change < 0 : change > 0;
  const arrow = change > 0 ? "▲" : change < 0 ? "▼" : "•";
  return h("div", {
    class: `delta ${change === 0 ? "" : better ? "up" : "down"}`,
    text: `${arrow} ${Math.abs(change * 100).toFixed(1)}% vs previous`,
  });
}

// ---- building blocks ----

export function card(label, value, deltaNode, key, { small = false } = {}) {
  return h("div", { class: "card", "data-kpi": key }, h("div", { class: "label", text: label }),
    h("div", { class: small ? "value small" : "value", text: value }), deltaNode);
}

/** A table: columns are [label, render(row) -> node|text, {num, cls, opt, sort}].
 * With `sorted` = {sort, order, href(sort, order)}, a column with a `sort` key heads with a link that orders by it. */
export function table(columns, rows, { empty = "Nothing in this range.", id, sorted } = {}) {
  // `opt` columns give way first on narrow screens (see .table .opt in app.css).
  const classes = (opts, ...more) => [opts.num ? "num" : "", opts.opt ? "opt" : "", ...more].filter(Boolean).join(" ");
  const headClass = (opts, ...more) => classes(opts, ...(opts.cls || "").split(" ").filter((c) => c === "wide"), ...more);
  const heading = (label, opts) => {
    if (!sorted || !opts.sort) return h("th", { class: headClass(opts), text: label });
    const active = sorted.sort === opts.sort;
    const order = active && sorted.order === "desc" ? "asc" : "desc";
    return h("th", { class: headClass(opts, "sortable"), "aria-sort": active ? (sorted.order === "asc" ? "ascending" : "descending") : "none" },
      h("a", { href: sorted.href(opts.sort, order), "data-sort": opts.sort, text: `${label}${active ? (sorted.order === "asc" ? " ▲" : " ▼") : ""}` }));
  };
  const head = h("thead", {}, h("tr", {}, columns.map(([label, , opts = {}]) => heading(label, opts))));
  const body = h("tbody", {}, rows.length
    ? rows.map((row) => h("tr", {}, columns.map(([, render, opts = {}]) => h("td", { class: classes(opts, opts.cls || "") }, render(row)))))
    : h("tr", {}, h("td", { colspan: columns.length, class: "empty", text: empty })));
  return h("table", { class: "table", id }, head, body);
}

/** A ranked list with proportional bars (top pages, channels, ...).
 * `filter`: the filter a row sets (a param name, or row => {param: value}): each row links to the
 * same page filtered by it. `csv`: [API path, table] for a CSV download of the whole table. */
export function ranked(title, rows, { label = "name", value = "count", column = "Name", valueLabel = "Sessions", format = fmt.int, name = (v) => v, id, filter, csv, extra = [] } = {}) {
  const max = Math.max(1, ...rows.map((r) => r[value] || 0));
  const changes = typeof filter === "function" ? filter : filter ? (r) => ({ [filter]: r[label] }) : null;
  const list = table([
    [column, (r) => {
      const bar = h("span", { class: "bar" });
      bar.style.width = `${((r[value] || 0) / max) * 100}%`;
      const raw = r[label];
      const text = raw === null || raw === undefined || raw === "(none)" ? "(none)" : name(raw, r);
      const wanted = changes && changes(r);
      const shown = wanted
        ? h("a", { class: "drill", href: link(location.pathname, wanted), title: `Filter by ${text}`, "data-drill": JSON.stringify(wanted), text })
        : h("span", { title: raw ?? undefined, text });
      return h("div", { class: "bar-cell" }, bar, shown);
    }, { cls: "url" }],
    ...extra,
    [valueLabel, (r) => format(r[value]), { num: true }],
  ], rows, { empty: "No data" });
  const head = h("div", { class: "panel-head" }, h("h2", { text: title }), csv ? csvLink(csv[0], csv[1]) : null);
  return h("section", { class: "panel", id }, head, h("div", { class: "table-wrap" }, list));
}

/** A link that downloads a whole report as JSON, within the page's scope. */
export function jsonLink(path, extra = {}) {
  return h("a", { class: "csv-link", href: `${path}?${scope({ ...extra, download: "1" })}`, download: "", text: "JSON", title: "Download this report as JSON" });
}

/** A link that downloads one table of a report as CSV, within the page's scope. */
export function csvLink(path, tableName, extra = {}) {
  const q = scope({ ...extra, format: "csv", table: tableName });
  return h("a", { class: "csv-link", href: `${path}?${q}`, download: "", text: "CSV", title: "Download this table as CSV" });
}

const PALETTE = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6"];

/** A uPlot time-series chart that follows its container's width. */
export function timeChart(node, xs, series, { height = 280, yFormat, hourly = false } = {}) {
  clear(node);
  if (!window.uPlot) {
    node.append(h("p", { class: "alert", text: "Chart library failed to load." }));
    return null;
  }
  const axis = { stroke: "#6b7280", grid: { stroke: "#f1f2f4" }, size: 56 };
  // Counts (visitors, orders) tick on whole numbers only: a "2.5 orders" gridline is a wrong picture.
  // The labels drawn (on the canvas) are also left on the chart as data-ticks-SCALE, for tests and tools.
  const wholeOn = (scale) => ({ incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8],
    values: (u, ticks) => {
      const labels = ticks.map((t) => fmt.int(t));
      u.root.setAttribute(`data-ticks-${scale}`, labels.join(" "));
      return labels;
    } });
  const counts = (scale) => series.filter((s) => (s.scale || "y") === scale).every((s) => !s.format);
  // Daily series: ticks fall on whole days and read as dates, never as hours.
  const day = (t) => new Date(t * 1000).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  // Hourly series (ranges up to two days): ticks on whole hours, read as clock times of the site's
  // time zone (a night clocks fall back shows 01:00 twice, as it was lived).
  const clock = new Intl.DateTimeFormat("en-GB", { timeZone: site.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const date = new Intl.DateTimeFormat("en-US", { timeZone: site.timezone, month: "short", day: "numeric" });
  const hour = (t) => {
    const time = clock.format(new Date(t * 1000));
    return (time === "00:00" ? `${date.format(new Date(t * 1000))} ` : "") + time;
  };
  const axes = [hourly
    ? { stroke: "#6b7280", grid: { stroke: "#f1f2f4" }, incrs: [3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600], values: (u, ticks) => ticks.map(hour) }
    : { stroke: "#6b7280", grid: { stroke: "#f1f2f4" }, incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400],
      values: (u, ticks) => ticks.map(day) },
    { ...axis, scale: "y", ...(counts("y") ? wholeOn("y") : {}), ...(yFormat ? { values: (u, ticks) => ticks.map(yFormat) } : {}) }];
  // A series with its own `scale` (orders beside revenue) gets a right-hand axis.
  for (const s of series) {
    if (s.scale && !axes.some((a) => a.scale === s.scale)) {
      axes.push({ ...axis, scale: s.scale, side: 1, grid: { show: false }, ...(counts(s.scale) ? wholeOn(s.scale) : {}) });
    }
  }
  const opts = {
    width: Math.max(320, node.clientWidth || 800),
    height,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    // A count scale starts at 0 and reaches at least 1, so that a day with one visit is not drawn as 0.5.
    scales: { x: { time: true }, ...Object.fromEntries(["y", ...series.map((s) => s.scale).filter(Boolean)]
      .filter((k) => counts(k)).map((k) => [k, { range: (u, lo, hi) => [0, Math.max(1, hi)] }])) },
    axes,
    series: [{}, ...series.map((s, i) => ({
      // A previous-period line wears the colour of the series it compares with, dashed and paler.
      label: s.label, stroke: s.previousOf !== undefined ? `${PALETTE[s.previousOf % PALETTE.length]}99` : PALETTE[i % PALETTE.length],
      width: s.previousOf !== undefined ? 1.5 : 2, dash: s.previousOf !== undefined ? [6, 4] : undefined, scale: s.scale || "y",
      fill: i === 0 ? "rgba(79,70,229,0.08)" : undefined, points: { show: xs.length < 40 && s.previousOf === undefined },
      value: (u, v) => (v === null || v === undefined ? "–" : (s.format || fmt.int)(v)),
    }))],
  };
  const plot = new window.uPlot(opts, [xs.map((x) => x / 1000), ...series.map((s) => s.values)], node);
  new ResizeObserver(() => plot.setSize({ width: Math.max(320, node.clientWidth), height })).observe(node);
  return plot;
}

export function sessionLink(id, label) {
  return h("a", { href: link(`/sessions/${encodeURIComponent(id)}`), class: "mono", text: label || String(id).slice(0, 12) });
}

export function personLink(id, { mono = false } = {}) {
  if (!id) return "–";
  return h("a", { href: link(`/people/${encodeURIComponent(id)}`), class: mono ? "mono" : undefined, text: id });
}

// ---- the toolbar: site, dates, segment, filter chips ----

/** Saved segments (/api/segments): named filter sets that every report applies via `segment=ID`. */
export const segments = {
  async list() {
    const data = await api("/api/segments", { query: siteOnly() });
    return data.segments || [];
  },
  save(name, filterSet) {
    return api("/api/segments", { method: "POST", query: siteOnly(), body: { name, filters: filterSet } });
  },
  remove(id) {
    return api(`/api/segments/${encodeURIComponent(id)}`, { method: "DELETE", query: siteOnly() });
  },
};

function siteOnly() {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  return q;
}

/** The current page under a segment (filters cleared: the segment carries its own). */
export function segmentUrl(id, path = location.pathname) {
  const q = new URLSearchParams();
  for (const key of ["site", "from", "to"]) if (params.get(key)) q.set(key, params.get(key));
  if (id !== "" && id !== null && id !== undefined) q.set("segment", id);
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

function filterLabel(key) {
  const found = FILTERS.find(([k]) => k === key);
  return found ? found[1] : key;
}

/** A filter's value as words: country names, channel words, yes/no. */
export function filterValue(key, value) {
  if (value === "(none)") return "(none)";
  const kind = (FILTERS.find(([k]) => k === key) || [])[2];
  if (kind === "bool") return ["1", "true", "yes"].includes(String(value).toLowerCase()) ? "yes" : "no";
  if (key === "country") return fmt.country(value);
  if (key === "channel") return fmt.channel(value);
  if (key === "min_duration") return fmt.duration(Number(value));
  return value;
}

// Pages whose reports count every visit in the range (heatmaps read per-page grids, not sessions):
// their toolbar offers no segment and shows no filter chips, so it never claims what is not applied.
const UNSCOPED = new Set(["heatmaps"]);

// Pages about the site as a whole, not a range or a filtered set of sessions: their toolbar is the site alone.
const SITE_ONLY = { live: "Live counts every visitor of the last 30 minutes: dates, segments and filters do not apply here.",
  goals: "Goals belong to the site; the overview counts their conversions in its range and filters." };

export async function initShell() {
  const { from, to } = range();
  const siteOnly = SITE_ONLY[document.body.dataset.page];
  if (siteOnly) {
    for (const id of ["#f-preset", "#f-from", "#f-to", "#f-segment"]) $(id).closest(".field").hidden = true;
    $("#f-apply").hidden = true;
    $("#f-chips").replaceChildren(h("span", { class: "muted", id: "f-unscoped", text: siteOnly }));
    for (const a of document.querySelectorAll("[data-nav]")) a.href = link(a.getAttribute("href").split("?")[0]);
    const sites = await siteList;
    for (const s of sites) $("#f-site").append(h("option", { value: s.id, text: s.name || s.id }));
    if (params.get("site")) $("#f-site").value = params.get("site");
    $("#f-site").addEventListener("change", () => navigate({ site: $("#f-site").value }));
    return;
  }
  if (UNSCOPED.has(document.body.dataset.page)) {
    $("#f-segment").closest(".field").hidden = true;
    $("#f-chips").replaceChildren(h("span", { class: "muted", id: "f-unscoped",
      text: "Heatmaps count every visit in the range: segments and filters do not apply here." }));
    for (const a of document.querySelectorAll("[data-nav]")) a.href = link(a.getAttribute("href").split("?")[0]);
    $("#f-apply").addEventListener("click", () => navigate({ site: $("#f-site").value, from: $("#f-from").value, to: $("#f-to").value }));
    $("#f-from").value = from;
    $("#f-to").value = to;
    datesApplyOnChange();
    $("#f-add").hidden = true;
    const sites = await siteList;
    for (const s of sites) $("#f-site").append(h("option", { value: s.id, text: s.name || s.id }));
    if (params.get("site")) $("#f-site").value = params.get("site");
    return;
  }
  $("#f-from").value = from;
  $("#f-to").value = to;
  for (const a of document.querySelectorAll("[data-nav]")) a.href = link(a.getAttribute("href").split("?")[0]);
  $("#f-apply").addEventListener("click", () => navigate({
    site: $("#f-site").value, from: $("#f-from").value, to: $("#f-to").value,
  }));
  datesApplyOnChange();
  addFilterControl();
  const chips = $("#f-chips");
  for (const [key, value] of Object.entries(filters())) {
    chips.append(h("span", { class: "chip", "data-filter": key, title: `${key}=${value}` }, `${filterLabel(key)}: ${filterValue(key, value)}`,
      h("button", { type: "button", "aria-label": `Remove ${filterLabel(key)}`, text: "×", onclick: () => navigate({ [key]: null }) })));
  }
  const [sites, saved] = await Promise.all([
    siteList,
    segments.list().catch(() => []),  // a collector without segments still shows its reports
  ]);
  const siteSelect = $("#f-site");
  for (const site of sites) siteSelect.append(h("option", { value: site.id, text: site.name || site.id }));
  if (params.get("site")) siteSelect.value = params.get("site");
  const segmentSelect = $("#f-segment");
  segmentSelect.append(h("option", { value: "", text: "All visitors" }));
  for (const segment of saved) segmentSelect.append(h("option", { value: String(segment.id), text: segment.name }));
  segmentSelect.value = params.get("segment") || "";
  const active = saved.find((s) => String(s.id) === params.get("segment"));
  if (active) {
    chips.prepend(h("span", { class: "chip", "data-filter": "segment" }, `Segment: ${active.name}`,
      h("button", { type: "button", "aria-label": "Remove segment", text: "×", onclick: () => navigate({ segment: null }) })));
  }
  segmentSelect.addEventListener("change", () => location.assign(segmentUrl(segmentSelect.value)));
  if (Object.keys(filters()).length) {
    chips.append(h("button", { type: "button", class: "link", id: "save-segment", text: "Save as segment", onclick: async () => {
      const name = window.prompt("Name this segment");
      if (!name || !name.trim()) return;
      const made = await segments.save(name.trim(), filters());
      location.assign(segmentUrl(made.id ?? (made.segment && made.segment.id)));
    } }));
  }
}

/** Presets and date fields apply as soon as they change; the site select too. */
function datesApplyOnChange() {
  const preset = $("#f-preset");
  if (!preset) return;
  preset.replaceChildren(...PRESETS.map(([key, label]) => h("option", { value: key, text: label })),
    h("option", { value: "custom", text: "Custom" }));
  preset.value = currentPreset();
  // Whose midnights the dates mean: the site's time zone, beside the picker.
  const label = preset.closest(".field").querySelector("span");
  label.replaceChildren("Dates · ", h("span", { class: "zone", id: "f-zone", title: "Days run from midnight to midnight in the site's time zone (site settings)",
    text: site.timezone }));
  preset.addEventListener("change", () => {
    const chosen = presetRange(preset.value);
    if (chosen) navigate(chosen);
    else $("#f-from").focus();
  });
  for (const id of ["#f-from", "#f-to"]) {
    $(id).addEventListener("change", () => {
      const from = $("#f-from").value;
      const to = $("#f-to").value;
      if (from && to) navigate({ from, to });
    });
  }
  $("#f-site").addEventListener("change", () => navigate({ site: $("#f-site").value, segment: null, goal: null }));
}

/** "Add filter": a field, a value with suggestions of the values seen in range, and Add. */
function addFilterControl() {
  const slot = $("#f-add");
  if (!slot) return;
  const field = h("select", { id: "f-add-field", "aria-label": "Filter field" },
    FILTERS.map(([key, label]) => h("option", { value: key, text: label })));
  const list = h("datalist", { id: "f-add-values" });
  const value = h("input", { id: "f-add-value", list: "f-add-values", placeholder: "value", "aria-label": "Filter value", autocomplete: "off" });
  const kindOf = () => (FILTERS.find(([k]) => k === field.value) || [])[2];
  let asked = 0;
  const suggestNow = async () => {
    const key = field.value;
    const kind = kindOf();
    if (kind === "bool") return clear(list, ["1", "0"].map((v) => h("option", { value: v, text: v === "1" ? "yes" : "no" })));
    if (!SUGGESTED.has(key)) return clear(list);
    const mine = ++asked;
    try {
      // country names are matched here by the page: the API knows codes only
      const q = scope({ field: key, q: key === "country" ? "" : value.value, limit: key === "country" ? 100 : 20 });
      const data = await api("/api/suggest", { query: q });
      if (mine !== asked) return;  // a later keystroke already asked again
      const typed = value.value.toLowerCase();
      const shown = data.values.filter((v) => key !== "country" || !typed || `${v.value} ${fmt.country(v.value)}`.toLowerCase().includes(typed));
      clear(list, shown.map((v) => h("option", { value: v.value, text: `${filterValue(key, v.value)} · ${plural(v.sessions, "session")}` })));
    } catch {
      clear(list);  // suggestions are a help, never a blocker
    }
  };
  let timer = null;
  value.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggestNow, 150);
  });
  value.addEventListener("focus", suggestNow);
  field.addEventListener("change", () => {
    value.value = "";
    suggestNow();
  });
  const add = h("button", { type: "submit", text: "Add filter" });
  const form = h("form", { class: "add-filter", id: "f-add-form" }, field, value, list, add);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (value.value.trim()) navigate({ [field.value]: value.value.trim() });
  });
  slot.replaceChildren(form);
}

let siteList = null;

/** The sites, asked once; the chosen one (or the only one) gives the page its currency. */
async function loadSites() {
  siteList = siteList || api("/api/sites").then((d) => d.sites || []).catch(() => []);
  const sites = await siteList;
  const chosen = sites.find((s) => s.id === params.get("site")) || (sites.length === 1 ? sites[0] : null);
  site.currency = (chosen && (chosen.currency || (chosen.settings && chosen.settings.currency))) || null;
  site.timezone = (chosen && chosen.settings && chosen.settings.timezone) || "UTC";
  return sites;
}

/** Run a page: the toolbar, then the page's own rendering, with one error shape. */
export function page(render, { toolbar = true } = {}) {
  const start = async () => {
    await loadSites();
    if (toolbar && $("#toolbar")) initShell().catch((e) => console.error(e));
    try {
      await render();
    } catch (error) {
      if (error.status === 401) return;
      const slot = h("div");
      $("#content").append(slot);
      failure(slot, error);
    } finally {
      document.body.dataset.ready = "1";
    }
  };
  start();
}
