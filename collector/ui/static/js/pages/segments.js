// Segments: saved filter sets; create one from filter fields, apply it to any page, delete it.
import { $, FILTERS, clear, h, page, segmentUrl, segments, table } from "../app.js";

function describe(filterSet) {
  return Object.entries(filterSet).map(([k, v]) => {
    const found = FILTERS.find(([key]) => key === k);
    return `${found ? found[1] : k}: ${v}`;
  }).join(" · ") || "everyone";
}

function form(onSaved) {
  const name = h("input", { name: "name", required: true, placeholder: "e.g. Mobile buyers", "aria-label": "Segment name" });
  const fields = FILTERS.map(([key, label, kind]) => {
    const input = kind === "bool" || kind.startsWith("select:")
      ? h("select", { name: key }, h("option", { value: "", text: "Any" }),
        (kind === "bool" ? [["1", "Yes"], ["0", "No"]] : kind.slice(7).split(",").map((v) => [v, v])).map(([v, t]) => h("option", { value: v, text: t })))
      : h("input", { name: key, type: kind === "number" ? "number" : "text" });
    return h("label", { class: "field" }, h("span", { text: label }), input);
  });
  const error = h("p", { class: "alert", hidden: true, role: "alert" });
  const node = h("form", { class: "filter-grid", id: "segment-form" },
    h("label", { class: "field" }, h("span", { text: "Name" }), name), fields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Save segment" })));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(node);
    const chosen = Object.fromEntries(FILTERS.map(([k]) => [k, data.get(k)]).filter(([, v]) => v));
    try {
      await segments.save(String(data.get("name")).trim(), chosen);
      onSaved();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  return [node, error];
}

async function render() {
  const list = await segments.list();
  clear($("#page-body"),
    h("section", { class: "panel" }, h("h2", { text: "Saved segments" }), h("div", { class: "table-wrap" }, table([
      ["Name", (s) => h("a", { href: segmentUrl(s.id, "/overview"), text: s.name })],
      ["Filters", (s) => describe(s.filters)],
      ["Open with", (s) => h("span", { class: "row" }, ["/sessions", "/funnels", "/surveys"].map((p) =>
        h("a", { href: segmentUrl(s.id, p), text: p.slice(1) })))],
      ["", (s) => h("button", { type: "button", class: "link danger", text: "Delete", onclick: async () => {
        await segments.remove(s.id);
        await render();
      } })],
    ], list, { empty: "No segments yet.", id: "segments-table" }))),
    h("section", { class: "panel" }, h("h2", { text: "New segment" }), form(() => render())));
}

page(render);

