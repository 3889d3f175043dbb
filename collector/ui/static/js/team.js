// What the members, keys, share links and reports pages share: the site they manage, a form helper.
import { api, h, params } from "./app.js";

/** `site=ID` for the site chosen in the toolbar, or the first site one may see. */
export async function siteQuery() {
  const { sites } = await api("/api/sites");
  const chosen = sites.find((s) => s.id === params.get("site")) || sites[0];
  return new URLSearchParams({ site: chosen ? chosen.id : "" }).toString();
}

/** A form whose submit calls `onSubmit(FormData)`, showing its error in place. */
export function form(id, fields, label, onSubmit) {
  const error = h("p", { class: "alert", hidden: true, role: "alert" });
  const node = h("form", { class: "filter-grid", id }, fields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: label })));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await onSubmit(new FormData(node));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  return [node, error];
}

export const field = (label, input) => h("label", { class: "field" }, h("span", { text: label }), input);

export const roleSelect = (name = "role") => h("select", { name },
  ["viewer", "analyst", "owner"].map((r) => h("option", { value: r, text: r })));

/** A one-time secret (an invite link, a new key) shown once, with the sentence that says so. */
export function secret(title, value, note) {
  return h("div", { class: "panel secret", id: "secret" }, h("h2", { text: title }),
    h("code", { class: "secret-value", text: value }), h("p", { class: "muted", text: note }));
}
