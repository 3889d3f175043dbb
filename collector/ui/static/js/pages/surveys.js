// Surveys: NPS, CSAT and CES cards with distributions, a daily trend, splits, and comments with sessions.
import { $, api, clear, fmt, h, page, personLink, plural, scope, sessionLink, table, timeChart } from "../app.js";

function bars(distribution, tone) {
  const entries = Object.entries(distribution);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return h("div", { class: "dist" }, entries.map(([score, n]) => {
    const bar = h("div", { class: `bar ${tone(Number(score))}`, title: `${score}: ${n}` });
    bar.style.height = `${(n / max) * 100}%`;
    return h("div", { class: "col", "data-score": score }, bar, h("div", { class: "lab", text: score }));
  }));
}

const npsTone = (s) => (s >= 9 ? "good" : s >= 7 ? "mid" : "bad");
const cesTone = (s) => (s >= 4 ? "good" : s === 3 ? "mid" : "bad");

function scoreCard(kind, title, data, detail, distribution, tone) {
  return h("section", { class: "panel", id: `survey-${kind}` },
    h("div", { class: "panel-head" }, h("h2", { text: title }), h("span", { class: "muted", "data-field": "responses", text: plural(data.responses, "response") })),
    h("div", { class: "score-big", "data-field": "score", text: data.responses ? fmt.num(data.score, 1) : "–" }),
    h("div", { class: "muted", text: detail }),
    distribution ? bars(distribution, tone) : null);
}

function csatDistribution(csat) {
  // Answers on 5- and 7-point scales are shown on the scale most of them used.
  const scales = Object.entries(csat.by_scale || {}).sort((a, b) => b[1].responses - a[1].responses);
  return scales.length ? [scales[0][1].distribution, Number(scales[0][0])] : [null, 5];
}

function split(title, groups, id) {
  const rows = [];
  for (const kind of ["nps", "csat", "ces"]) for (const g of groups[kind] || []) rows.push({ kind, ...g });
  return h("section", { class: "panel", id }, h("h2", { text: `By ${title.toLowerCase()}` }), h("div", { class: "table-wrap" }, table([
    ["Metric", (r) => r.kind.toUpperCase()],
    [title, (r) => (title === "Channel" ? fmt.channel(r.name) : r.name)],
    ["Responses", (r) => fmt.int(r.responses), { num: true }],
    ["Score", (r) => fmt.num(r.score, 1), { num: true }],
  ], rows, { empty: "No answers." })));
}

/** A mean only means something with answers (and on one CSAT scale): "–" otherwise. */
const mean = (score) => (score.responses && score.mean !== null ? fmt.num(score.mean, 2) : "–");

page(async () => {
  const data = await api("/api/surveys", { query: scope() });
  const [csatDist, csatScale] = csatDistribution(data.csat);
  const chartNode = h("div", { class: "chart", id: "chart" });
  clear($("#page-body"),
    h("div", { class: "grid-3" },
      scoreCard("nps", "NPS", data.nps, [plural(data.nps.promoters, "promoter"), plural(data.nps.passives, "passive"), plural(data.nps.detractors, "detractor")].join(" · "),
        data.nps.distribution, npsTone),
      scoreCard("csat", "CSAT", data.csat, `${data.csat.satisfied} satisfied · mean ${mean(data.csat)}`,
        csatDist, (s) => (s >= csatScale - 1 ? "good" : s <= 2 ? "bad" : "mid")),
      scoreCard("ces", "CES", data.ces, `${data.ces.easy} easy · ${data.ces.neutral} neutral · ${data.ces.difficult} difficult · mean ${mean(data.ces)}`,
        data.ces.distribution, cesTone)),
    h("section", { class: "panel" }, h("h2", { text: "Responses per day" }), chartNode),
    h("div", { class: "grid-2" }, split("Channel", data.by_channel, "by-channel"), split("Device", data.by_device, "by-device")),
    h("section", { class: "panel", id: "comments" }, h("h2", { text: "Comments" }),
      data.comments.length ? h("ul", { class: "comments" }, data.comments.map((c) => h("li", { "data-session": c.session_id },
        h("div", { class: "row" }, h("span", { class: "badge info", text: `${c.kind.toUpperCase()} ${c.score}` }),
          h("span", { class: "muted", text: fmt.datetime(c.ts) }), personLink(c.visitor_id)),
        h("blockquote", { text: c.comment }),
        h("div", { class: "row" }, sessionLink(c.session_id, "Open session"),
          c.has_replay ? h("a", { href: `/sessions/${encodeURIComponent(c.session_id)}/replay`, text: "Watch replay" }) : null)))
      ) : h("p", { class: "empty", text: "No comments in this range." })));
  const xs = data.trend.map((d) => Date.parse(`${d.date}T00:00:00Z`));
  timeChart(chartNode, xs, ["nps", "csat", "ces"].map((k) => ({ label: k.toUpperCase(), values: data.trend.map((d) => d[k].responses) })), { height: 220 });
});
