// Experiments: the site's A/B tests with a link to each result, and a form to define a new one.
import { $, api, clear, fmt, h, link, page, params, table } from "../app.js";
import { styles } from "./experiment-view.js";

const METRICS = [["revenue", "Revenue per visitor"], ["bounce", "Bounce rate"], ["nps", "NPS"], ["csat", "CSAT"], ["ces", "CES"]];

function siteQuery() {
  const q = new URLSearchParams();
  if (params.get("site")) q.set("site", params.get("site"));
  return q;
}

/** "control, green:2" -> [{name: "control"}, {name: "green", weight: 2}] */
function parseVariants(text) {
  return text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const at = part.lastIndexOf(":");
    if (at > 0 && part.slice(at + 1).trim() !== "" && !Number.isNaN(Number(part.slice(at + 1)))) {
      return { name: part.slice(0, at).trim(), weight: Number(part.slice(at + 1)) };
    }
    return { name: part };
  });
}

function form(onSaved) {
  const field = (label, input) => h("label", { class: "field" }, h("span", { text: label }), input);
  const error = h("p", { class: "alert", hidden: true, role: "alert" });
  const node = h("form", { class: "filter-grid", id: "experiment-form" },
    field("Key (as the site calls it)", h("input", { name: "key", required: true, maxlength: 64, placeholder: "checkout-cta" })),
    field("Name", h("input", { name: "name", maxlength: 200, placeholder: "Checkout button colour" })),
    field("Variants (first is the control; name:weight)", h("input", { name: "variants", required: true, placeholder: "control, green" })),
    field("Goal (event type or custom event; empty: the site's goal)", h("input", { name: "goal", placeholder: "purchase" })),
    field("Hypothesis", h("input", { name: "hypothesis", maxlength: 2000, placeholder: "A green button is seen sooner" })),
    h("fieldset", { class: "metrics-field" }, h("legend", { text: "Secondary metrics" }),
      METRICS.map(([value, label]) =>
        h("label", { class: "field inline" }, h("input", { type: "checkbox", name: "metrics", value }), h("span", { text: label })))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Create experiment" })));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(node);
    const body = {
      key: String(data.get("key")).trim(),
      name: String(data.get("name")).trim(),
      variants: parseVariants(String(data.get("variants"))),
      metrics: data.getAll("metrics"),
      hypothesis: String(data.get("hypothesis")).trim(),
    };
    const goal = String(data.get("goal")).trim();
    if (goal) body.goal = goal;
    try {
      await api("/api/experiments", { method: "POST", query: siteQuery(), body });
      onSaved();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  return [node, error];
}

async function render() {
  styles();
  const data = await api("/api/experiments", { query: siteQuery() });
  const list = data.experiments || [];
  clear($("#page-body"),
    h("section", { class: "panel" }, h("h2", { text: "Experiments" }), h("div", { class: "table-wrap" }, table([
      ["Experiment", (e) => h("a", { href: link(`/experiments/${encodeURIComponent(e.key)}`), class: "variant-name", text: e.name })],
      ["Key", (e) => h("span", { class: "mono", text: e.key })],
      ["Variants", (e) => e.variants.map((v) => `${v.name} (${v.weight})`).join(", ")],
      ["Goal", (e) => (e.saved_goal ? e.saved_goal.name : e.goal || "site goal")],
      ["Created", (e) => fmt.day(e.created_at)],
      ["", (e) => h("button", { type: "button", class: "link danger", text: "Delete", onclick: async () => {
        if (!window.confirm(`Delete the definition of ${e.key}? Its exposures stay.`)) return;
        await api(`/api/experiments/${encodeURIComponent(e.key)}`, { method: "DELETE", query: siteQuery() });
        await render();
      } })],
    ], list, { empty: "No experiments yet.", id: "experiments-table" }))),
    h("section", { class: "panel" }, h("h2", { text: "New experiment" }), form(() => render())));
}

page(render);
