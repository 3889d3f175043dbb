// Web Vitals: p75 (nearest rank) of LCP, INP, CLS, FCP and TTFB with the share of good, needs
// improvement and poor visits by web.dev's thresholds; by page and by device.
import { $, api, card, clear, csvLink, jsonLink, h, link, page, scope, table } from "../app.js";

const METRICS = ["LCP", "INP", "CLS", "FCP", "TTFB"];
const WORDS = { good: "Good", needs_improvement: "Needs improvement", poor: "Poor" };

const value = (metric, v) => (v === null || v === undefined ? "–" : metric === "CLS" ? v.toFixed(2) : `${Math.round(v)} ms`);
const pct = (v) => `${Math.round(v * 100)}%`;

function bands(summary) {
  const bar = h("div", { class: "bands", title: `good ${pct(summary.good)} · needs improvement ${pct(summary.needs_improvement)} · poor ${pct(summary.poor)}` });
  for (const [cls, share] of [["good", summary.good], ["ni", summary.needs_improvement], ["poor", summary.poor]]) {
    const part = h("span", { class: cls });
    part.style.width = `${share * 100}%`;
    bar.append(part);
  }
  return bar;
}

function metricCell(metric) {
  return (row) => {
    const s = row[metric];
    if (!s) return "–";
    return h("span", { class: `rating-${s.rating}`, title: `${WORDS[s.rating]} · ${s.count} measured`, text: value(metric, s.p75) });
  };
}

page(async () => {
  const data = await api("/api/vitals", { query: scope() });
  const cards = METRICS.map((m) => {
    const s = data.metrics[m];
    const t = data.thresholds[m];
    const node = card(m, value(m, s.p75), null, m);
    node.append(h("div", { class: `delta rating-${s.rating || "none"}`, text: s.rating ? `${WORDS[s.rating]} · ${s.count} measured` : "not measured" }),
      bands(s), h("div", { class: "muted small", text: `good ≤ ${value(m, t.good)} · poor > ${value(m, t.poor)}` }));
    return node;
  });
  const columns = (key, label, filter) => [
    [label, (r) => (filter ? h("a", { href: link(filter === "page" ? "/sessions" : location.pathname, { [filter]: r[key] }), text: r[key] }) : r[key]), { cls: "url" }],
    ...METRICS.map((m) => [m, metricCell(m), { num: true, opt: m === "FCP" || m === "TTFB" }]),
  ];
  clear($("#page-body"),
    h("section", { class: "cards", id: "kpis" }, cards),
    h("p", { class: "muted", text: "p75: the value 75% of page loads reach or beat (nearest rank). Colours: good, needs improvement, poor (web.dev thresholds)." }),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", { text: "By page" }), csvLink("/api/vitals", "pages"), jsonLink("/api/vitals")),
      h("div", { class: "table-wrap" }, table(columns("page", "Page", "page"), data.pages, { empty: "No Web Vitals in this range.", id: "vitals-pages" }))),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", { text: "By device" }), csvLink("/api/vitals", "devices")),
      h("div", { class: "table-wrap" }, table(columns("device", "Device", "device"), data.devices, { empty: "No Web Vitals in this range.", id: "vitals-devices" }))));
});
