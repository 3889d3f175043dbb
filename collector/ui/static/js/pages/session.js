// One session: its facts, the replay player (the replay page framed into #replay) and the event timeline.
import { $, api, clear, fmt, h, link, page, personLink } from "../app.js";

const id = document.body.dataset.session;

function describe(e) {
  switch (e.type) {
    case "pageview": return e.path || e.url || "";
    case "click": return [e.rage ? "rage" : "", e.dead ? "dead" : "", e.sel || e.name || "", e.text ? `“${e.text}”` : ""].filter(Boolean).join(" ");
    case "cart": return `${e.action || e.name || ""} ${e.item ? `${e.item.name || e.item.sku} ${fmt.money(e.item.price, e.item.currency)}` : ""}`;
    case "checkout": return `value ${fmt.money(e.value, e.currency)}`;
    case "purchase": return `order ${e.order_id || e.name || ""} · ${fmt.money(e.value, e.currency)}`;
    case "identify": return `as ${e.user_id || ""}`;
    case "track": return e.name || "";
    case "survey": return `${(e.kind || e.name || "").toUpperCase()} ${e.score}${e.comment ? ` — “${e.comment}”` : ""}`;
    case "error": return e.message || "";
    case "vital": return `${e.name} ${e.value}`;
    case "scroll": case "page_leave": return e.depth !== undefined && e.depth !== null ? `depth ${e.depth}%` : "";
    default: return "";
  }
}

const TYPE_BADGE = { purchase: "good", error: "bad", cart: "warn", survey: "info" };

function facts(s) {
  const rows = [
    ["Visitor", personLink(s.visitor_id)],
    ["Started", fmt.datetime(s.first_ts)],
    ["Duration", fmt.duration(s.duration_ms / 1000)],
    ["Pageviews", fmt.int(s.pageviews)],
    ["Entry", s.entry_url || "–"],
    ["Exit", s.exit_url || "–"],
    ["Channel", [s.channel && fmt.channel(s.channel), s.utm_campaign].filter(Boolean).join(" · ") || "–"],
    ["Device", [s.device, s.os, s.browser].filter(Boolean).join(" · ") || "–"],
    ["Location", [s.city, s.country_name || (s.country && fmt.country(s.country))].filter(Boolean).join(", ") || "–"],
    ["Revenue", s.purchases ? `${fmt.money(s.revenue)} (${s.purchases} order${s.purchases > 1 ? "s" : ""})` : "–"],
    ["Frustration", `${s.rage_clicks} rage · ${s.dead_clicks} dead · ${s.errors} errors`],
  ];
  return h("dl", { class: "facts" }, rows.map(([k, v]) => h("div", { "data-fact": k }, h("dt", { text: k }), h("dd", {}, v))));
}

// Types that say little about the journey: shown only on demand.
const NOISE = new Set(["vital", "scroll", "page_leave"]);

/** One checkbox per event type in the session, with its count; unticking hides that type's rows. */
function typeFilter(events, items) {
  const counts = new Map();
  for (const e of events) counts.set(e.type, (counts.get(e.type) || 0) + 1);
  const boxes = [...counts].map(([type, n]) => {
    const box = h("input", { type: "checkbox", value: type, "data-type": type });
    box.checked = !NOISE.has(type);
    box.addEventListener("change", apply);
    return h("label", { class: "type-toggle" }, box, ` ${type} (${fmt.int(n)})`);
  });
  function apply() {
    const shown = new Set(boxes.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.value));
    for (const li of items) li.hidden = !shown.has(li.dataset.type);
  }
  apply();
  return h("div", { class: "type-filter", id: "type-filter", role: "group", "aria-label": "Event types shown" }, boxes);
}

async function mountReplay(s) {
  const mount = $("#replay");
  const player = `/sessions/${encodeURIComponent(s.id)}/replay`;
  const anchor = $("#replay-link");
  anchor.href = player;
  if (!s.has_replay) {
    anchor.hidden = true;
    clear(mount, h("p", { class: "note", text: "No replay was recorded for this session." }));
    return;
  }
  // The player is its own page (another module owns it); frame it only when this collector serves it.
  const probe = await fetch(player, { method: "GET", credentials: "same-origin" }).catch(() => null);
  if (!probe || !probe.ok) {
    clear(mount, h("p", { class: "note", text: "The replay player is not installed on this collector." }));
    return;
  }
  clear(mount, h("iframe", { src: player, title: "Session replay", loading: "lazy" }));
}

page(async () => {
  const s = await api(`/api/sessions/${encodeURIComponent(id)}`);
  document.title = `Session ${String(s.id).slice(0, 12)} · Trailmark`;
  $(".page-title").textContent = `Session ${s.id}`;
  clear($("#session-facts"), h("div", { class: "panel-head" }, h("h2", { text: "Session" }),
    h("a", { href: link("/sessions"), text: "← All sessions" })), facts(s));
  const start = s.first_ts;
  const items = s.events.map((e) => h("li", { "data-type": e.type },
    h("span", { class: "t", text: `+${fmt.duration((e.ts - start) / 1000)}` }),
    h("span", {}, h("span", { class: `badge ${TYPE_BADGE[e.type] || ""}`, text: e.type })),
    h("span", { class: "what", text: describe(e) })));
  clear($("#timeline"), items);
  $("#timeline").before(typeFilter(s.events, items));
  await mountReplay(s);
});
