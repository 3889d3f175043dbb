// Sessions: the filter form (shared filters, kept in the URL) and the newest-first list with cursor paging.
import { $, FILTERS, api, clear, filters, fmt, h, navigate, page, personLink, scope, sessionLink, table } from "../app.js";

function filterForm() {
  const form = $("#filter-form");
  const current = filters();
  const fields = FILTERS.map(([key, label, kind]) => {
    let input;
    if (kind === "bool") {
      input = h("select", { name: key }, h("option", { value: "", text: "Any" }),
        h("option", { value: "1", text: "Yes" }), h("option", { value: "0", text: "No" }));
    } else if (kind.startsWith("select:")) {
      input = h("select", { name: key }, h("option", { value: "", text: "Any" }),
        kind.slice(7).split(",").map((v) => h("option", { value: v, text: v })));
    } else {
      input = h("input", { name: key, type: kind === "number" ? "number" : "text", min: kind === "number" ? "0" : undefined });
    }
    input.value = current[key] || "";
    return h("label", { class: "field" }, h("span", { text: label }), input);
  });
  clear(form, fields, h("div", { class: "actions" },
    h("button", { type: "submit", class: "primary", text: "Apply filters" }),
    h("button", { type: "button", text: "Clear", onclick: () => navigate(Object.fromEntries(FILTERS.map(([k]) => [k, null]))) })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    navigate(Object.fromEntries(FILTERS.map(([k]) => [k, data.get(k) || null])));
  });
  if (!Object.keys(current).length) $("#filters").removeAttribute("open");
}

function flags(s) {
  const out = [];
  if (s.purchases > 0) out.push(h("span", { class: "badge good", text: `purchase ${fmt.money(s.revenue)}` }));
  else if (s.cart_adds > 0) out.push(h("span", { class: "badge warn", text: "cart abandoned" }));
  if (s.rage_clicks > 0 || s.dead_clicks > 0 || s.errors > 0) out.push(h("span", { class: "badge bad", text: "frustrated" }));
  if (s.has_replay) out.push(h("span", { class: "badge info", text: "replay" }));
  return h("span", { class: "row" }, out);
}

const COLUMNS = [
  ["Started (UTC)", (s) => sessionLink(s.id, fmt.short(s.first_ts)), { cls: "nowrap" }],
  ["Visitor", (s) => personLink(s.visitor_id, { mono: !s.user_id })],
  ["Duration", (s) => fmt.duration(s.duration_ms / 1000), { num: true, cls: "nowrap" }],
  ["Pages", (s) => fmt.int(s.pageviews), { num: true }],
  ["Entry page", (s) => h("span", { title: s.entry_url || "", text: pathOf(s.entry_url) }), { cls: "url", opt: true }],
  ["Channel", (s) => s.channel || "–"],
  ["Device", (s) => [s.device, s.browser].filter(Boolean).join(" · ") || "–", { cls: "nowrap" }],
  ["Country", (s) => s.country || "–", { opt: true }],
  ["", flags, { cls: "nowrap" }],
];

function pathOf(url) {
  if (!url) return "–";
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

page(async () => {
  filterForm();
  const wrap = $("#sessions-table").parentElement;
  const more = $("#more");
  let rows = [];
  let cursor = null;
  const load = async () => {
    const q = scope({ limit: "50" });
    if (cursor) q.set("cursor", cursor);
    const data = await api("/api/sessions", { query: q });
    rows = rows.concat(data.sessions);
    cursor = data.next;
    clear(wrap, table(COLUMNS, rows, { empty: "No sessions match these filters.", id: "sessions-table" }));
    more.hidden = !cursor;
  };
  more.addEventListener("click", () => load().catch((e) => console.error(e)));
  await load();
});
