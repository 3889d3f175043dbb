// API keys: for automation, each with a role on one site (or every site); shown once, revocable.
import { $, api, clear, h, page, table } from "../app.js";
import { field, form, roleSelect, secret, siteQuery } from "../team.js";

async function render(shown) {
  const query = await siteQuery();
  const site = new URLSearchParams(query).get("site");
  const { keys } = await api("/api/keys");
  const [add, error] = form("key-form", [
    field("Name", h("input", { name: "name", required: true, placeholder: "e.g. nightly export" })),
    field("Role", roleSelect()),
  ], "Create key", async (data) => {
    const made = await api("/api/keys", { query, method: "POST", body: { name: data.get("name"), role: data.get("role"), site } });
    await render(secret(`Key "${made.name}"`, made.key, "Copy it now: it is shown once (only its hash is kept). Send it as Authorization: Bearer <key>."));
  });
  clear($("#page-body"), shown || [],
    h("section", { class: "panel" }, h("h2", { text: "Keys" }), h("div", { class: "table-wrap" }, table([
      ["Name", (k) => k.name],
      ["Role", (k) => k.role],
      ["Site", (k) => (k.site === "*" ? "every site" : k.site)],
      ["Created", (k) => new Date(k.created_at * 1000).toISOString().slice(0, 10)],
      ["", (k) => (k.revoked ? h("span", { class: "muted", text: "revoked" })
        : h("button", { type: "button", class: "link danger", text: "Revoke", onclick: async () => {
          await api(`/api/keys/${k.id}`, { method: "DELETE" });
          await render();
        } }))],
    ], keys, { empty: "No keys yet. The admin token (TRAILMARK_ADMIN_TOKEN) is an owner key for every site.", id: "keys-table" }))),
    h("section", { class: "panel" }, h("h2", { text: `New key for ${site}` }), add, error));
}

page(() => render());
