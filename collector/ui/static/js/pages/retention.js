// Retention: weekly cohorts by first visit, the share of each cohort that came back week by week.
import { $, api, clear, csvLink, fmt, h, page, scope } from "../app.js";

const WEEK_MS = 7 * 86400000;

function heat(rate) {
  return `heat-${Math.min(6, Math.ceil(rate * 6))}`;
}

/** A cohort's week k: blank before it has begun, marked while it is still under way. */
function cell(c, k, partialWeek) {
  if (c.rates[k] === null || c.rates[k] === undefined) {
    return h("td", { class: "cell future", "data-week": k, title: "This week has not begun yet" });
  }
  const partial = k === partialWeek;
  const text = k === 0 ? "100%" : fmt.pct(c.rates[k]);
  return h("td", {
    class: `cell ${heat(c.rates[k])}${partial ? " partial" : ""}`, "data-week": k, "data-partial": partial ? "1" : undefined,
    title: `${fmt.int(c.retained[k])} visitors${partial ? " so far: this week is not over" : ""}`, text,
  });
}

page(async () => {
  const data = await api("/api/retention", { query: scope({ weeks: "8" }) });
  const weeks = [...Array(data.weeks).keys()];
  const current = Date.parse(`${data.current_week}T00:00:00Z`);
  const body = $("#page-body");
  const rows = data.cohorts.map((c) => {
    const partialWeek = Math.round((current - Date.parse(`${c.week}T00:00:00Z`)) / WEEK_MS);
    return h("tr", { "data-cohort": c.week },
      h("td", { class: "nowrap", text: `Week of ${c.week}` }),
      h("td", { class: "num", text: fmt.int(c.visitors) }),
      weeks.map((k) => cell(c, k, partialWeek)));
  });
  clear(body, h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", { text: "Weekly cohorts by first visit" }),
      h("span", { class: "muted", text: "Share of each cohort active again k weeks later" }), csvLink("/api/retention", "cohorts")),
    h("div", { class: "table-wrap" }, h("table", { class: "table cohorts", id: "cohorts" },
      h("thead", {}, h("tr", {}, h("th", { text: "Cohort" }), h("th", { class: "num", text: "Visitors" }),
        weeks.map((k) => h("th", { class: "num", text: `Week ${k}` })))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: data.weeks + 2, class: "empty", text: "No new visitors in this range." }))))),
    h("p", { class: "muted legend-note", id: "retention-legend" },
      h("span", { class: "partial-key" }), ` The week of ${data.current_week} is still under way: its share can only grow. Blank weeks have not begun yet.`)));
});
