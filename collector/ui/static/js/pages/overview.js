// Overview: KPI cards against the previous period, a daily traffic chart, ranked breakdowns.
import { $, api, card, clear, delta, fmt, h, page, ranked, scope, timeChart } from "../app.js";

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

const BREAKDOWNS = [
  ["pages", "Top pages", "Page", "Pageviews", "pageviews"],
  ["channels", "Channels", "Channel", "Sessions", "sessions", fmt.channel],
  ["campaigns", "UTM campaigns", "Campaign", "Sessions", "sessions"],
  ["devices", "Devices", "Device", "Sessions", "sessions"],
  ["browsers", "Browsers", "Browser", "Sessions", "sessions"],
  ["countries", "Countries", "Country", "Sessions", "sessions", fmt.country],
];

page(async () => {
  const data = await api("/api/overview", { query: scope() });
  // A site that is not a shop (by its setting, or no carts and orders) has no cart or revenue cards.
  const shown = KPIS.filter(([, , , , shopOnly]) => data.shop || !shopOnly);
  clear($("#kpis"), shown.map(([key, label, format, lowerIsBetter]) => {
    const metric = data.metrics[key] || {};
    return card(label, format(metric.value, data), delta(metric.change, { lowerIsBetter }), key);
  }));
  const xs = data.series.map((d) => Date.parse(`${d.date}T00:00:00Z`));
  timeChart($("#chart"), xs, [
    { label: "Visitors", values: data.series.map((d) => d.visitors) },
    { label: "Sessions", values: data.series.map((d) => d.sessions) },
    { label: "Pageviews", values: data.series.map((d) => d.pageviews) },
  ]);
  clear($("#breakdowns"), BREAKDOWNS.map(([key, title, column, valueLabel, value, name]) =>
    ranked(title, data[key] || [], { value, column, valueLabel, name, id: `breakdown-${key}` })));
});
