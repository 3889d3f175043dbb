// Retention: weekly cohorts by first visit, the share of each cohort that came back week by week.
import { $, api, clear, fmt, h, page, scope } from "../app.js";

function heat(rate) {
  return `heat-${Math.min(6, Math.ceil(rate * 6))}`;
}

page(async () => {
  const data = await api("/api/retention", { query: scope({ weeks: "8" }) });
  const weeks = [...Array(data.weeks).keys()];
  const body = $("#page-body");
  const rows = data.cohorts.map((c) => h("tr", { "data-cohort": c.week },
    h("td", { class: "nowrap", text: `Week of ${c.week}` }),
    h("td", { class: "num", text: fmt.int(c.visitors) }),
    weeks.map((k) => h("td", { class: `cell ${heat(c.rates[k])}`, title: `${c.retained[k]} visitors`, "data-week": k,
      text: k === 0 ? "100%" : fmt.pct(c.rates[k]) }))));
  clear(body, h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", { text: "Weekly cohorts by first visit" }),
      h("span", { class: "muted", text: "Share of each cohort active again k weeks later" })),
    h("div", { class: "table-wrap" }, h("table", { class: "table cohorts", id: "cohorts" },
      h("thead", {}, h("tr", {}, h("th", { text: "Cohort" }), h("th", { class: "num", text: "Visitors" }),
        weeks.map((k) => h("th", { class: "num", text: `Week ${k}` })))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: data.weeks + 2, class: "empty", text: "No new visitors in this range." })))))));
});
