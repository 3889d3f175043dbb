// Overview: KPI cards against the previous period, the traffic chart (hours for short ranges, the
// previous period dashed), goals, and ranked breakdowns whose rows filter the whole dashboard.
import { $, api, card, clear, csvLink, delta, fmt, h, jsonLink, link, navigate, page, params, ranked, scope, site, timeChart } from "../app.js";

// [key, label, format(value, data), lower is better, shops only]
const KPIS = [
  ["visitors", "Visitors", fmt.int],
  ["sessions", "Sessions", fmt.int],
  ["pageviews", "Pageviews", fmt.int],
  ["bounce_rate", "Bounce rate", fmt.pct, true],
  ["avg_duration_s", "Avg. duration", fmt.duration],
  ["conversion_rate", "Conversion", fmt.pct],
  ["cart_abandonment_rate", "Cart abandonment", fmt.pct, true, true],
  ["revenue", "Revenue", (v, data) => fmt.money(v, data.currency), false, true],
  ["aov", "Avg. order value", (v, data) => fmt.money(v, data.currency), false, true],
];

// [key, title, column, value label, value field, name(value, row), filter]
const BREAKDOWNS = [
  ["pages", "Top pages", "Page", "Pageviews", "pageviews", undefined, "page"],
  ["entry_pages", "Entry pages", "Page", "Sessions", "sessions", undefined, "entry"],
  ["exit_pages", "Exit pages", "Page", "Sessions", "sessions", undefined, "exit"],
  ["referrers", "Referrers", "Referrer", "Sessions", "sessions", undefined, "referrer"],
  ["channels", "Channels", "Channel", "Sessions", "sessions", fmt.channel, "channel"],
  ["campaigns", "UTM campaigns", "Campaign", "Sessions", "sessions", undefined, "campaign"],
  ["devices", "Devices", "Device", "Sessions", "sessions", undefined, "device"],
  ["browsers", "Browsers", "Browser", "Sessions", "sessions", undefined, "browser"],
  ["countries", "Countries", "Country", "Sessions", "sessions", fmt.country, "country"],
  ["regions", "Regions", "Region", "Sessions", "sessions", (v, r) => `${r.region} · ${fmt.country(r.country)}`,
    (r) => (r.name === "(none)" ? { region: "(none)" } : { country: r.country, region: r.region })],
];

function xOf(point) {
  return point.hour ? Date.parse(point.hour) : Date.parse(`${point.date}T00:00:00Z`);
}

function goalsPanel(data) {
  const chosen = params.get("goal") || "";
  const select = h("select", { id: "goal-select", "aria-label": "Conversion goal" },
    h("option", { value: "", text: "Purchase (site default)" }),
    data.goals.map((g) => h("option", { value: String(g.id), text: g.name })));
  select.value = chosen;
  select.addEventListener("change", () => navigate({ goal: select.value || null }));
  const rows = data.goals.map((g) => h("tr", { class: String(g.id) === chosen ? "chosen" : undefined, "data-goal": g.id },
    h("td", {}, h("a", { href: link(location.pathname, { goal: g.id }), text: g.name })),
    h("td", { class: "num", text: fmt.int(g.visitors) }),
    h("td", { class: "num", text: fmt.pct(g.conversion_rate) }),
    h("td", { class: "num opt" }, delta(g.previous ? (g.visitors - g.previous) / g.previous : null))));
  const body = data.goals.length
    ? h("table", { class: "table", id: "goals-table" },
      h("thead", {}, h("tr", {}, h("th", { text: "Goal" }), h("th", { class: "num", text: "Converted visitors" }),
        h("th", { class: "num", text: "Rate" }), h("th", { class: "num opt", text: "Change" }))),
      h("tbody", {}, rows))
    : h("p", { class: "muted" }, "No goals yet. ", h("a", { href: link("/goals"), text: "Define goals" }), " to count their conversions here.");
  return h("section", { class: "panel", id: "goals" },
    h("div", { class: "panel-head" }, h("h2", { text: "Goals" }),
      h("label", { class: "field inline" }, h("span", { text: "Conversion rate counts" }), select),
      data.goals.length ? csvLink("/api/overview", "goals") : null),
    h("div", { class: "table-wrap" }, body));
}

page(async () => {
  const data = await api("/api/overview", { query: scope({ interval: "auto" }) });
  // A site that is not a shop (by its setting, or no carts and orders) has no cart or revenue cards.
  const shown = KPIS.filter(([, , , , shopOnly]) => data.shop || !shopOnly);
  const goal = data.goals.find((g) => String(g.id) === params.get("goal"));
  clear($("#kpis"), shown.map(([key, label, format, lowerIsBetter]) => {
    const metric = data.metrics[key] || {};
    const title = key === "conversion_rate" && goal ? `Conversion · ${goal.name}` : label;
    return card(title, format(metric.value, data), delta(metric.change, { lowerIsBetter }), key);
  }));
  const hourly = data.interval === "hour";
  const xs = data.series.map(xOf);
  const before = data.previous_series || [];
  timeChart($("#chart"), xs, [
    { label: "Visitors", values: data.series.map((d) => d.visitors) },
    { label: "Sessions", values: data.series.map((d) => d.sessions) },
    { label: "Pageviews", values: data.series.map((d) => d.pageviews) },
    // the period before, point for point, drawn under this one
    { label: "Visitors, previous period", values: data.series.map((d, i) => (before[i] ? before[i].visitors : null)), previousOf: 0 },
  ], { hourly });
  $("#chart").dataset.interval = data.interval;
  clear($("#chart-legend"), h("span", { class: "muted", id: "chart-zone", text: `${hourly ? "Hourly" : "Daily"}, ${site.timezone}` }),
    csvLink("/api/overview", "series", { interval: "auto" }), jsonLink("/api/overview", { interval: "auto" }));
  $("#goals-slot").replaceChildren(goalsPanel(data));
  clear($("#breakdowns"), BREAKDOWNS.map(([key, title, column, valueLabel, value, name, filter]) =>
    ranked(title, data[key] || [], { value, column, valueLabel, name, id: `breakdown-${key}`, filter, csv: ["/api/overview", key] })));
});
