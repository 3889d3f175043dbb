// Custom events: each name with its count and visitors; choose one to see its property values.
import { $, api, clear, csvLink, jsonLink, fmt, h, link, page, params, scope, table } from "../app.js";

page(async () => {
  const name = params.get("name") || "";
  const data = await api("/api/events", { query: scope(name ? { name } : {}) });
  const events = table([
    ["Event", (e) => h("a", { href: link(location.pathname, { name: e.name }), class: e.name === name ? "strong" : undefined, text: e.name })],
    ["Count", (e) => fmt.int(e.count), { num: true }],
    ["Visitors", (e) => fmt.int(e.visitors), { num: true }],
  ], data.events, { empty: "No custom events in this range. Send them with trailmark.track(name, props).", id: "events-table" });
  const parts = [h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", { text: "Custom events" }), csvLink("/api/events", "events"), jsonLink("/api/events")),
    h("div", { class: "table-wrap" }, events))];
  if (name) {
    parts.push(h("section", { class: "panel", id: "properties" },
      h("div", { class: "panel-head" }, h("h2", { text: `Properties of ${name}` }), csvLink("/api/events", "properties", { name })),
      h("div", { class: "table-wrap" }, table([
        ["Property", (p) => h("span", { class: "mono", text: p.key })],
        ["Value", (p) => p.value ?? "(none)", { cls: "url" }],
        ["Count", (p) => fmt.int(p.count), { num: true }],
        ["Visitors", (p) => fmt.int(p.visitors), { num: true }],
      ], data.properties, { empty: "This event has no properties.", id: "properties-table" }))));
  }
  clear($("#page-body"), parts);
});
