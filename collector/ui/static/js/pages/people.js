// People: find a person by user id or anonymous id; the visitors of the range, paged and sortable.
import { $, api, clear, csvLink, fmt, h, link, page, params, personLink, plural, scope, shortId, table } from "../app.js";

const PAGE = 50;

function person(p) {
  const a = personLink(p.id, { mono: !p.user_id });
  a.textContent = shortId(p.id, 24);
  a.title = p.id;
  return a;
}

page(async () => {
  const input = h("input", { id: "person-id", placeholder: "user id or anonymous id", "aria-label": "Person id", class: "grow" });
  const form = h("form", { class: "row", id: "person-form" }, input, h("button", { type: "submit", class: "primary", text: "Open 360 view" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (id) location.assign(link(`/people/${encodeURIComponent(id)}`));
  });
  const sort = params.get("sort") || "last_seen";
  const order = params.get("order") || "desc";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const data = await api("/api/persons", { query: scope({ sort, order, limit: String(PAGE), offset: String(offset) }) });
  const at = (to) => link(location.pathname, { sort, order, offset: String(to) });
  const sorted = { sort, order, href: (key, dir) => link(location.pathname, { sort: key, order: dir }) };
  const shown = data.people.length;
  const pager = h("div", { class: "pager row", id: "people-pager" },
    offset > 0 ? h("a", { class: "button", "data-action": "prev", href: at(Math.max(0, offset - PAGE)), text: "← Previous" }) : null,
    h("span", { class: "muted", "data-field": "page", text: shown ? `${fmt.int(offset + 1)}–${fmt.int(offset + shown)} of ${fmt.int(data.total)}` : "" }),
    offset + shown < data.total ? h("a", { class: "button", "data-action": "next", href: at(offset + PAGE), text: "Next →" }) : null);
  clear($("#page-body"), h("section", { class: "panel" }, h("h2", { text: "Find a person" }), form),
    h("section", { class: "panel" },
      h("div", { class: "panel-head" }, h("h2", { text: "Visitors in this range" }),
        h("span", { class: "muted", id: "people-total", text: plural(data.total, "visitor") }), csvLink("/api/persons", "people", { sort, order, limit: "500", offset: String(offset) })),
      h("div", { class: "table-wrap" }, table([
        ["Person", person, { cls: "nowrap" }],
        ["Known user", (p) => (p.user_id ? h("span", { class: "badge good", text: "identified" }) : h("span", { class: "badge", text: "anonymous" })), { opt: true }],
        ["Sessions", (p) => fmt.int(p.sessions), { num: true, sort: "sessions" }],
        ["All time", (p) => fmt.int(p.all_sessions), { num: true, opt: true }],
        ["Purchases", (p) => fmt.int(p.purchases), { num: true, sort: "purchases" }],
        ["Revenue", (p) => fmt.money(p.revenue), { num: true, sort: "revenue" }],
        ["First seen (UTC)", (p) => fmt.short(p.first_ts), { cls: "nowrap", sort: "first_seen", opt: true }],
        ["Last seen (UTC)", (p) => fmt.short(p.last_ts), { cls: "nowrap", sort: "last_seen" }],
      ], data.people, { empty: "No visitors in this range.", id: "people-table", sorted })), pager));
});
