// Goals: what counts as a conversion for this site: a page pattern, an event type, or a custom
// event with an optional property condition. The overview counts each; choosing one there makes
// the conversion rate follow it.
import { $, api, clear, fmt, h, link, page, params, table } from "../app.js";

const KINDS = [
  ["pageview", "Page visited", "/thanks, /product/*, /order/:id"],
  ["custom", "Custom event", "signup"],
  ["event", "Event type", "checkout, purchase, survey"],
];

function siteQuery() {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  return q;
}

function describe(g) {
  const kind = (KINDS.find(([k]) => k === g.kind) || [null, g.kind])[1];
  const prop = g.property ? ` where ${g.property.key} = ${g.property.value}` : "";
  return `${kind}: ${g.value}${prop}`;
}

function form(onSaved) {
  const kind = h("select", { name: "kind", id: "goal-kind" }, KINDS.map(([k, label]) => h("option", { value: k, text: label })));
  const value = h("input", { name: "value", id: "goal-value", required: true });
  const key = h("input", { name: "key", id: "goal-prop-key", placeholder: "property (optional)" });
  const wanted = h("input", { name: "prop", id: "goal-prop-value", placeholder: "equals" });
  const propRow = h("label", { class: "field" }, h("span", { text: "Property condition" }), h("span", { class: "row" }, key, wanted));
  const sync = () => {
    value.placeholder = (KINDS.find(([k]) => k === kind.value) || [])[2];
    propRow.hidden = kind.value !== "custom";
  };
  kind.addEventListener("change", sync);
  sync();
  const name = h("input", { name: "name", id: "goal-name", required: true, placeholder: "e.g. Pro signup" });
  const error = h("p", { class: "alert", hidden: true, role: "alert" });
  const node = h("form", { class: "filter-grid", id: "goal-form" },
    h("label", { class: "field" }, h("span", { text: "Name" }), name),
    h("label", { class: "field" }, h("span", { text: "Kind" }), kind),
    h("label", { class: "field" }, h("span", { text: "Matches" }), value), propRow,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Add goal" })));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), kind: kind.value, value: value.value.trim() };
    if (kind.value === "custom" && key.value.trim()) body.property = { key: key.value.trim(), value: wanted.value };
    try {
      await api("/api/goals", { method: "POST", query: siteQuery(), body });
      onSaved();
    } catch (e) {
      error.textContent = `${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`;
      error.hidden = false;
    }
  });
  return [node, error];
}

async function render() {
  const { goals } = await api("/api/goals", { query: siteQuery() });
  clear($("#page-body"),
    h("section", { class: "panel" }, h("h2", { text: "Goals" }), h("div", { class: "table-wrap" }, table([
      ["Name", (g) => h("a", { href: link("/overview", { goal: g.id }), text: g.name })],
      ["Counts", (g) => describe(g)],
      ["Created", (g) => fmt.day(g.created_at), { opt: true }],
      ["", (g) => h("button", { type: "button", class: "link danger", text: "Delete", "aria-label": `Delete ${g.name}`, onclick: async () => {
        await api(`/api/goals/${g.id}`, { method: "DELETE", query: siteQuery() });
        await render();
      } })],
    ], goals, { empty: "No goals yet: purchases count as conversions.", id: "goals-table" }))),
    h("section", { class: "panel" }, h("h2", { text: "New goal" }), form(() => render())));
}

page(render);
