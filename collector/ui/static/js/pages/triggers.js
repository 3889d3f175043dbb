// Triggers: signed webhooks when a journey does something; rules, their secret (shown once) and delivery log.
import { $, api, clear, fmt, h, page, params, segments, table } from "../app.js";

const TYPES = ["pageview", "click", "track", "cart", "checkout", "purchase", "survey", "identify", "error", "vital", "exposure"];
const KINDS = [["event", "An event happens"], ["absence", "An event is not followed by another"], ["segment", "A session enters a segment"]];

function siteQuery() {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  return q;
}

function describeCondition(c) {
  if (!c) return "";
  const parts = [c.type];
  if (c.name) parts.push(`“${c.name}”`);
  if (c.page) parts.push(`on ${c.page}`);
  for (const [k, v] of Object.entries(c.properties || {})) parts.push(`${k} = ${v}`);
  if (c.score_min !== undefined || c.score_max !== undefined) parts.push(`score ${c.score_min ?? "…"}–${c.score_max ?? "…"}`);
  return parts.join(" ");
}

function describe(rule, segmentNames) {
  if (rule.kind === "event") return describeCondition(rule.event);
  if (rule.kind === "alert") return "its alert fires (Reports page)";
  if (rule.kind === "absence") return `${describeCondition(rule.event)}, then no ${describeCondition(rule.absent)} within ${fmt.duration(rule.delay_s)}`;
  return `enters segment “${segmentNames[rule.segment] || `#${rule.segment}`}”`;
}

function limits(rule) {
  const out = [];
  if (rule.cooldown_s) out.push(`once per person per ${fmt.duration(rule.cooldown_s)}`);
  if (rule.sample < 1) out.push(`${Math.round(rule.sample * 100)}% sampled`);
  if (rule.max_per_hour) out.push(`≤ ${rule.max_per_hour}/h`);
  return out.join(" · ") || "–";
}

function conditionFields(prefix, legend) {
  const field = (label, input) => h("label", { class: "field" }, h("span", { text: label }), input);
  return h("fieldset", { class: "filter-grid", id: `${prefix}-fields` }, h("legend", { text: legend }),
    field("Event type", h("select", { name: `${prefix}-type`, id: `${prefix}-type` }, TYPES.map((t) => h("option", { value: t, text: t })))),
    field("Name (track name, cart action, survey kind)", h("input", { name: `${prefix}-name`, id: `${prefix}-name`, placeholder: "e.g. add, nps, signup" })),
    prefix === "on" ? [
      field("Page pattern", h("input", { name: "on-page", id: "on-page", placeholder: "/checkout, /product/:id" })),
      field("Property equals (path=value)", h("input", { name: "on-prop", id: "on-prop", placeholder: "plan=pro" })),
      field("Survey score from", h("input", { name: "on-min", id: "on-min", type: "number", step: "any" })),
      field("Survey score up to", h("input", { name: "on-max", id: "on-max", type: "number", step: "any" })),
    ] : []);
}

function readCondition(data, prefix) {
  const c = { type: data.get(`${prefix}-type`) };
  const name = String(data.get(`${prefix}-name`) || "").trim();
  if (name) c.name = name;
  if (prefix !== "on") return c;
  const pageText = String(data.get("on-page") || "").trim();
  if (pageText) c.page = pageText;
  const prop = String(data.get("on-prop") || "").trim();
  if (prop) {
    const at = prop.indexOf("=");
    if (at < 1) throw new Error("write the property as path=value");
    c.properties = { [prop.slice(0, at).trim()]: prop.slice(at + 1).trim() };
  }
  if (c.type === "survey" && data.get("on-min") !== "") c.score_min = Number(data.get("on-min"));
  if (c.type === "survey" && data.get("on-max") !== "") c.score_max = Number(data.get("on-max"));
  return c;
}

function form(saved, onSaved) {
  const field = (label, input) => h("label", { class: "field" }, h("span", { text: label }), input);
  const kind = h("select", { name: "kind", id: "t-kind" }, KINDS.map(([v, t]) => h("option", { value: v, text: t })));
  const onFields = conditionFields("on", "When this event happens");
  const absentFields = conditionFields("absent", "…and this one does not follow");
  const delay = field("Within (minutes)", h("input", { name: "delay", id: "t-delay", type: "number", min: 0.02, step: "any", value: 30 }));
  const segmentField = field("Segment", h("select", { name: "segment", id: "t-segment" },
    saved.map((s) => h("option", { value: String(s.id), text: s.name }))));
  const error = h("p", { class: "alert", hidden: true, role: "alert", id: "t-error" });
  const node = h("form", { id: "trigger-form" },
    h("div", { class: "filter-grid" },
      field("Name", h("input", { name: "name", id: "t-name", required: true, maxlength: 200, placeholder: "e.g. Abandoned cart" })),
      field("Webhook URL", h("input", { name: "url", id: "t-url", required: true, type: "url", placeholder: "https://hooks.example.com/trailmark" })),
      field("Fire when", kind)),
    onFields, absentFields, h("div", { class: "filter-grid" }, delay, segmentField,
      field("Cooldown per person (minutes)", h("input", { name: "cooldown", id: "t-cooldown", type: "number", min: 0, value: 0 })),
      field("Sample (%)", h("input", { name: "sample", id: "t-sample", type: "number", min: 1, max: 100, value: 100 })),
      field("At most per hour", h("input", { name: "max_per_hour", id: "t-max", type: "number", min: 1, placeholder: "no limit" }))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Create trigger" })), error);
  const onType = onFields.querySelector("#on-type");
  const scores = [...onFields.querySelectorAll("#on-min, #on-max")].map((input) => input.closest("label"));
  const sync = () => {
    for (const label of scores) label.hidden = onType.value !== "survey";  // scores are survey answers'
    onFields.hidden = kind.value === "segment";
    absentFields.hidden = delay.hidden = kind.value !== "absence";
    segmentField.hidden = kind.value !== "segment";
  };
  kind.addEventListener("change", sync);
  onType.addEventListener("change", sync);
  sync();
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(node);
    error.hidden = true;
    try {
      const body = { name: String(data.get("name")).trim(), url: String(data.get("url")).trim(), kind: kind.value,
        cooldown_s: Number(data.get("cooldown") || 0) * 60, sample: Number(data.get("sample") || 100) / 100 };
      if (data.get("max_per_hour")) body.max_per_hour = Number(data.get("max_per_hour"));
      if (kind.value !== "segment") body.event = readCondition(data, "on");
      if (kind.value === "absence") {
        body.absent = readCondition(data, "absent");
        body.delay_s = Math.round(Number(data.get("delay")) * 60);
      }
      if (kind.value === "segment") body.segment = Number(data.get("segment"));
      const made = await api("/api/triggers", { method: "POST", query: siteQuery(), body });
      onSaved(made);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  return node;
}

async function showLog(rule, slot) {
  const { deliveries } = await api(`/api/triggers/${rule.id}/deliveries`, { query: siteQuery() });
  clear(slot, h("h2", { text: `Deliveries of “${rule.name}”` }), h("div", { class: "table-wrap" }, table([
    ["Fired", (d) => fmt.short(d.fired_at)],
    ["Status", (d) => h("span", { class: `status ${d.status.split(":")[0]}`, text: d.status })],
    ["Attempts", (d) => fmt.int(d.attempts), { num: true }],
    ["Response", (d) => (d.response_code ? `HTTP ${d.response_code}` : d.error || "–")],
    ["Latency", (d) => (d.latency_ms === null ? "–" : `${fmt.int(d.latency_ms)} ms`), { num: true, opt: true }],
    ["Lag", (d) => (d.lag_ms === null ? "–" : `${fmt.int(d.lag_ms)} ms`), { num: true, opt: true }],
    ["Delivery id", (d) => h("span", { class: "mono", text: d.id.slice(0, 8) }), { opt: true }],
  ], deliveries, { empty: "Nothing fired yet.", id: "deliveries-table" })));
  slot.hidden = false;
}

async function render(created) {
  const [{ triggers }, saved] = await Promise.all([api("/api/triggers", { query: siteQuery() }), segments.list()]);
  const names = Object.fromEntries(saved.map((s) => [s.id, s.name]));
  const logSlot = h("section", { class: "panel", id: "delivery-log", hidden: true });
  const toggle = (rule) => h("button", { type: "button", class: "link", text: rule.enabled ? "Disable" : "Enable", onclick: async () => {
    await api(`/api/triggers/${rule.id}`, { method: "PATCH", query: siteQuery(), body: { enabled: !rule.enabled } });
    await render();
  } });
  clear($("#page-body"),
    created ? h("section", { class: "panel", id: "new-secret" }, h("h2", { text: `“${created.name}” created` }),
      h("p", { class: "note", text: "Its signing secret, shown this once: keep it where your receiver verifies signatures." }),
      h("p", {}, h("code", { class: "mono", id: "secret", text: created.secret }))) : null,
    h("section", { class: "panel" }, h("h2", { text: "Triggers" }), h("div", { class: "table-wrap" }, table([
      ["Name", (r) => r.name],
      ["Fires when", (r) => describe(r, names)],
      ["Limits", (r) => limits(r), { opt: true }],
      ["Webhook", (r) => h("span", { class: "mono", text: r.url }), { cls: "url", opt: true }],
      ["State", (r) => (r.enabled ? h("span", { class: "status delivered", text: "on" })
        : h("span", { class: "status failed", title: r.disabled_reason || "", text: r.disabled_reason || "off" }))],
      ["", (r) => h("span", { class: "row" },
        h("button", { type: "button", class: "link", text: "Deliveries", onclick: () => showLog(r, logSlot) }), toggle(r),
        // An alert's webhook goes with its alert, deleted on the Reports page.
        r.kind === "alert" ? h("a", { class: "link", href: `/reports?${siteQuery()}`, text: "Alert…" })
          : h("button", { type: "button", class: "link danger", text: "Delete", onclick: async () => {
            if (!window.confirm(`Delete “${r.name}” and its delivery log?`)) return;
            await api(`/api/triggers/${r.id}`, { method: "DELETE", query: siteQuery() });
            await render();
          } }))],
    ], triggers, { empty: "No triggers yet.", id: "triggers-table" }))),
    logSlot,
    h("section", { class: "panel" }, h("h2", { text: "New trigger" }), form(saved, (made) => render(made))));
}

page(() => render());
