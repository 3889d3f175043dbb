// Sessions: the filter form (shared filters, kept in the URL) and the session list, sortable, with cursor paging.
import { $, FILTERS, api, clear, filters, fmt, h, link, navigate, page, params, personLink, plural, scope, sessionLink, shortId, table } from "../app.js";

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

/** The outcome badges; the revenue has its own column, so the purchase badge stays short. */
function flags(s) {
  const out = [];
  if (s.purchases > 0) out.push(h("span", { class: "badge good", text: "purchase" }));
  else if (s.cart_adds > 0) out.push(h("span", { class: "badge warn", text: "cart abandoned" }));
  if (s.rage_clicks > 0 || s.dead_clicks > 0 || s.errors > 0) out.push(h("span", { class: "badge bad", text: "frustrated" }));
  if (s.has_replay) out.push(h("span", { class: "badge info", text: "replay" }));
  return h("span", { class: "badges" }, out);
}

function visitor(s) {
  const a = personLink(s.visitor_id, { mono: !s.user_id });
  if (a instanceof Node) {
    a.textContent = shortId(s.visitor_id);
    a.title = s.visitor_id;
  }
  return a;
}

const COLUMNS = [
  ["Started (UTC)", (s) => sessionLink(s.id, fmt.short(s.first_ts)), { sort: "time" }],
  ["Visitor", visitor, { cls: "visitor" }],
  ["Duration", (s) => fmt.duration(s.duration_ms / 1000), { num: true, sort: "duration" }],
  ["Pages", (s) => fmt.int(s.pageviews), { num: true, sort: "pages" }],
  ["Revenue", (s) => (s.purchases > 0 ? fmt.money(s.revenue) : "–"), { num: true, sort: "revenue" }],
  ["Entry page", (s) => h("span", { title: s.entry_url || "", text: pathOf(s.entry_url) }), { cls: "url", opt: true }],
  ["Channel", (s) => fmt.channel(s.channel), { opt: true }],
  ["Device", (s) => h("span", { title: [s.device, s.os, s.browser].filter(Boolean).join(" · "), text: s.device || "–" })],
  ["Country", (s) => fmt.country(s.country), { opt: true, cls: "country wide" }],
  ["Outcome", flags, { cls: "outcome" }],
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

/** Download every session in scope as CSV: the API streams it; the bar counts rows as they come. */
async function exportAll(button, bar, note) {
  button.disabled = true;
  bar.hidden = false;
  bar.removeAttribute("value");
  note.textContent = "Starting…";
  try {
    const response = await fetch(`/api/export/sessions?${scope()}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || `HTTP ${response.status}`);
    const total = Number(response.headers.get("X-Total-Count")) || 0;
    bar.max = Math.max(1, total);
    const reader = response.body.getReader();
    const parts = [];
    let lines = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      for (const byte of value) if (byte === 10) lines += 1;
      const rows = Math.max(0, lines - 1);  // the header is a line too
      bar.value = rows;
      note.textContent = `${fmt.int(rows)} of ${fmt.int(total)} sessions`;
    }
    const url = URL.createObjectURL(new Blob(parts, { type: "text/csv" }));
    const a = h("a", { href: url, download: `sessions-${new Date().toISOString().slice(0, 10)}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    note.textContent = `Downloaded ${plural(total, "session")}`;
  } catch (e) {
    note.textContent = `Export failed: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

page(async () => {
  filterForm();
  const bar = h("progress", { class: "progress", id: "export-progress", hidden: true });
  const note = h("span", { class: "muted", id: "export-note", "aria-live": "polite" });
  const button = h("button", { type: "button", id: "export-sessions", text: "Export CSV" });
  button.addEventListener("click", () => exportAll(button, bar, note));
  $("#sessions-total").after(h("span", { class: "row" }, note, button));
  $("#sessions-table").closest(".panel").querySelector(".panel-head").after(bar);
  const wrap = $("#sessions-table").parentElement;
  const more = $("#more");
  const sort = params.get("sort") || "time";
  const order = params.get("order") || "desc";
  const sorted = { sort, order, href: (key, dir) => link(location.pathname, { sort: key, order: dir }) };
  let rows = [];
  let cursor = null;
  const load = async () => {
    const q = scope({ limit: "50", sort, order });
    if (cursor) q.set("cursor", cursor);
    const data = await api("/api/sessions", { query: q });
    rows = rows.concat(data.sessions);
    cursor = data.next;
    $("#sessions-total").textContent = rows.length < data.total
      ? `${plural(data.total, "session")} · showing ${fmt.int(rows.length)}` : plural(data.total, "session");
    clear(wrap, table(COLUMNS, rows, { empty: "No sessions match these filters.", id: "sessions-table", sorted }));
    more.hidden = !cursor;
  };
  more.addEventListener("click", () => load().catch((e) => console.error(e)));
  await load();
});
