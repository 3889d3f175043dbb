// JS errors grouped by message and source: how often, how many sessions, and the sessions (with
// their replays first) to watch.
import { $, api, clear, csvLink, jsonLink, fmt, h, link, page, plural, scope, table } from "../app.js";

function examples(e) {
  return h("span", { class: "row" }, e.examples.map((x) => h("a", {
    href: link(x.replay ? `/sessions/${encodeURIComponent(x.session_id)}/replay` : `/sessions/${encodeURIComponent(x.session_id)}`),
    class: "mono", title: x.replay ? "Watch the replay" : "Open the session",
    text: `${x.replay ? "▶ " : ""}${x.session_id.slice(0, 8)}`,
  })));
}

page(async () => {
  const data = await api("/api/errors", { query: scope() });
  const total = data.errors.reduce((n, e) => n + e.count, 0);
  clear($("#page-body"), h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", { text: "JavaScript errors" }),
      h("span", { class: "muted", id: "errors-total", text: `${plural(total, "error")} in ${plural(data.errors.length, "group")}` }),
      csvLink("/api/errors", "errors"), jsonLink("/api/errors")),
    h("div", { class: "table-wrap" }, table([
      ["Message", (e) => h("span", { class: "mono", title: e.message, text: e.message }), { cls: "url" }],
      ["Source", (e) => h("span", { title: e.source, text: e.source ? e.source.replace(/^https?:\/\/[^/]+/, "") : "–" }), { cls: "url", opt: true }],
      ["Count", (e) => fmt.int(e.count), { num: true }],
      ["Sessions", (e) => h("a", { href: link("/sessions", { error: e.message }), title: "These sessions", text: fmt.int(e.sessions) }), { num: true }],
      ["Last seen", (e) => fmt.short(e.last_seen), { opt: true }],
      ["Sessions to watch", examples],
    ], data.errors, { empty: "No JavaScript errors in this range.", id: "errors-table" }))));
});
