// One person's 360 view: identities, traits, one timeline across touchpoints, sessions, purchases
// and survey answers, over all time.
import { $, api, card, clear, fmt, h, page, params, plural, sessionLink, table } from "../app.js";

const id = document.body.dataset.person;

page(async () => {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  const p = await api(`/api/persons/${encodeURIComponent(id)}`, { query: q });
  $(".page-title").textContent = p.user_id ? `Person ${p.user_id}` : `Visitor ${p.id}`;
  const traits = Object.entries(p.traits || {});
  clear($("#page-body"),
    h("section", { class: "cards", id: "kpis" },
      card("Sessions", fmt.int(p.sessions.length), null, "sessions"),
      card("Purchases", fmt.int(p.purchases.length), null, "purchases"),
      card("Revenue", fmt.money(p.revenue), null, "revenue"),
      card("First seen (UTC)", fmt.short(p.first_ts), null, "first_seen", { small: true }),
      card("Last seen (UTC)", fmt.short(p.last_ts), null, "last_seen", { small: true })),
    h("div", { class: "grid-2" },
      h("section", { class: "panel", id: "identities" }, h("h2", { text: "Identities" }),
        h("dl", { class: "facts" },
          h("div", {}, h("dt", { text: "User id" }), h("dd", { text: p.user_id || "anonymous" })),
          h("div", {}, h("dt", { text: "Anonymous ids" }), h("dd", { class: "mono", text: p.anon_ids.join(", ") || "–" })))),
      h("section", { class: "panel", id: "traits" }, h("h2", { text: "Traits" }), traits.length
        ? table([["Trait", (t) => t[0]], ["Value", (t) => (typeof t[1] === "string" ? t[1] : JSON.stringify(t[1]))]], traits)
        : h("p", { class: "muted", text: "No traits." }))),
    h("section", { class: "panel" }, h("h2", { text: "Timeline across channels" }), h("div", { class: "table-wrap" }, table([
      ["When (UTC)", (e) => fmt.short(e.ts), { cls: "nowrap" }],
      ["Touchpoint", (e) => h("span", { class: `badge ${e.touchpoint === "web" ? "info" : "warn"}`, text: e.touchpoint })],
      ["What", (e) => what(e)],
      ["Session", (e) => e.session_id ? sessionLink(e.session_id, e.entry === "visit" && e.has_replay ? "replay" : undefined) : "–"],
    ], p.timeline, { empty: "Nothing yet.", id: "person-timeline" }))),
    h("section", { class: "panel" }, h("h2", { text: "Sessions" }), h("div", { class: "table-wrap" }, table([
      ["Started (UTC)", (s) => sessionLink(s.id, fmt.short(s.first_ts)), { cls: "nowrap" }],
      ["Duration", (s) => fmt.duration(s.duration_ms / 1000), { num: true }],
      ["Pages", (s) => fmt.int(s.pageviews), { num: true }],
      ["Entry", (s) => s.entry_url || "–", { cls: "url", opt: true }],
      ["Device", (s) => [s.device, s.browser].filter(Boolean).join(" · ") || "–", { cls: "nowrap" }],
      ["Revenue", (s) => (s.revenue ? fmt.money(s.revenue) : "–"), { num: true }],
    ], p.sessions, { id: "person-sessions" }))),
    h("div", { class: "grid-2" },
      h("section", { class: "panel" }, h("h2", { text: "Purchases" }), h("div", { class: "table-wrap" }, table([
        ["Order", (e) => e.order_id || e.name],
        ["When (UTC)", (e) => fmt.short(e.ts), { cls: "nowrap" }],
        ["Value", (e) => fmt.money(e.value, e.currency), { num: true }],
        ["Session", (e) => sessionLink(e.session_id)],
      ], p.purchases, { empty: "No purchases.", id: "person-purchases" }))),
      h("section", { class: "panel" }, h("h2", { text: "Survey answers" }), h("div", { class: "table-wrap" }, table([
        ["Kind", (e) => String(e.kind || e.name || "").toUpperCase()],
        ["Score", (e) => fmt.int(e.score), { num: true }],
        ["Comment", (e) => e.comment || "–"],
        ["Session", (e) => sessionLink(e.session_id)],
      ], p.surveys, { empty: "No answers.", id: "person-surveys" })))));
});

// One line of the timeline in words: a web visit by its pages, any other contact by its kind.
function what(e) {
  if (e.entry === "visit") {
    return `Web visit: ${plural(e.pageviews, "page")} from ${e.entry_url || "?"}${e.channel ? ` (${e.channel})` : ""}`;
  }
  if (e.type === "purchase") return `Purchase ${e.order_id}: ${fmt.money(e.value, e.currency)}`;
  if (e.type === "survey") return `${String(e.kind).toUpperCase()} answer ${e.score}${e.comment ? `: “${e.comment}”` : ""}`;
  if (e.type === "track") return e.name;
  return e.name ? `${e.type} ${e.name}` : e.type;
}
