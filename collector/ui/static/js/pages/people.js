// People: find a person by user id or anonymous id; recent visitors of the range as a starting point.
import { $, api, clear, fmt, h, link, page, personLink, scope, table } from "../app.js";

page(async () => {
  const input = h("input", { id: "person-id", placeholder: "user id or anonymous id", "aria-label": "Person id", class: "grow" });
  const form = h("form", { class: "row", id: "person-form" }, input, h("button", { type: "submit", class: "primary", text: "Open 360 view" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (id) location.assign(link(`/people/${encodeURIComponent(id)}`));
  });
  const data = await api("/api/sessions", { query: scope({ limit: "200" }) });
  const seen = new Map();
  for (const s of data.sessions) {
    const person = seen.get(s.visitor_id) || { id: s.visitor_id, user_id: s.user_id, sessions: 0, revenue: 0, last_ts: s.last_ts };
    person.sessions += 1;
    person.revenue += s.revenue || 0;
    person.last_ts = Math.max(person.last_ts, s.last_ts);
    seen.set(s.visitor_id, person);
  }
  clear($("#page-body"), h("section", { class: "panel" }, h("h2", { text: "Find a person" }), form),
    h("section", { class: "panel" }, h("h2", { text: "Recent visitors" }), h("div", { class: "table-wrap" }, table([
      ["Person", (p) => personLink(p.id)],
      ["Known user", (p) => (p.user_id ? h("span", { class: "badge good", text: "identified" }) : h("span", { class: "badge", text: "anonymous" }))],
      ["Sessions", (p) => fmt.int(p.sessions), { num: true }],
      ["Revenue", (p) => fmt.money(p.revenue), { num: true }],
      ["Last seen (UTC)", (p) => fmt.short(p.last_ts), { cls: "nowrap" }],
    ], [...seen.values()], { empty: "No visitors in this range.", id: "recent-people" }))));
});
