// Live: visitors of the last 5 and 30 minutes, the pages they are on, and events as they arrive.
// Polled every POLL_MS; the server answers from the recent end of an index (see reads/live.py).
import { $, api, clear, fmt, h, page, params, table } from "../app.js";

const POLL_MS = 5000;

function render(data) {
  $("#live-5").textContent = fmt.int(data.visitors_5m);
  $("#live-30").textContent = fmt.int(data.visitors_30m);
  const max = Math.max(1, ...data.minutes);
  clear($("#live-minutes"), data.minutes.map((n, i) => {
    const bar = h("span", { title: `${30 - i} min ago: ${n} visitor${n === 1 ? "" : "s"}` });
    bar.style.height = `${(n / max) * 100}%`;
    return bar;
  }));
  clear($("#live-pages"), table([
    ["Page", (p) => p.path || "(none)", { cls: "url" }],
    ["Visitors", (p) => fmt.int(p.visitors), { num: true }],
  ], data.pages, { empty: "Nobody in the last 5 minutes.", id: "live-pages-table" }));
  clear($("#live-events"), table([
    ["Time (UTC)", (e) => fmt.time(e.ts)],
    ["Event", (e) => h("span", {}, h("span", { class: "badge", text: e.type }), e.name ? ` ${e.name}` : "")],
    ["Page", (e) => e.path || "–", { cls: "url" }],
    ["Where", (e) => [e.device, fmt.country(e.country)].filter((v) => v && v !== "–").join(" · ") || "–", { opt: true }],
  ], data.events, { empty: "No events in the last 30 minutes.", id: "live-events-table" }));
  $("#live-updated").textContent = `Updated ${fmt.time(data.now)} UTC`;
}

page(async () => {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  clear($("#page-body"),
    h("section", { class: "cards live" },
      h("div", { class: "card", "data-kpi": "visitors_5m" }, h("div", { class: "label" }, h("span", { class: "live-dot" }), "Visitors, last 5 minutes"),
        h("div", { class: "live-number", id: "live-5", text: "–" })),
      h("div", { class: "card", "data-kpi": "visitors_30m" }, h("div", { class: "label", text: "Visitors, last 30 minutes" }),
        h("div", { class: "live-number", id: "live-30", text: "–" }), h("div", { class: "minutes", id: "live-minutes" }))),
    h("p", { class: "muted", id: "live-updated" }),
    h("div", { class: "grid-2" },
      h("section", { class: "panel" }, h("h2", { text: "Current pages" }), h("div", { class: "table-wrap", id: "live-pages" })),
      h("section", { class: "panel" }, h("h2", { text: "Latest events" }), h("div", { class: "table-wrap", id: "live-events" }))));
  render(await api("/api/live", { query: q }));
  let polls = 0;
  const tick = async () => {
    // A hidden tab asks nothing: the numbers refresh when it is looked at again.
    if (!document.hidden) {
      try {
        render(await api("/api/live", { query: q }));
        document.body.dataset.polls = String(++polls);
      } catch (e) {
        $("#live-updated").textContent = `Could not refresh: ${e.message}`;
      }
    }
    setTimeout(tick, POLL_MS);
  };
  setTimeout(tick, POLL_MS);
});
