// Share links: a read-only view of one report, for anyone with the link, until it expires or is revoked.
import { $, api, clear, h, page, table } from "../app.js";
import { field, form, secret, siteQuery } from "../team.js";

const VIEWS = ["overview", "paths", "retention", "commerce", "surveys"];

async function render(shown) {
  const query = await siteQuery();
  const { shares } = await api("/api/shares", { query });
  const [add, error] = form("share-form", [
    field("View", h("select", { name: "view" }, VIEWS.map((v) => h("option", { value: v, text: v })))),
    field("Range (last days)", h("input", { name: "last_days", type: "number", min: 1, max: 365, value: 30 })),
    field("Link works for (days)", h("input", { name: "days", type: "number", min: 1, max: 366, value: 30 })),
  ], "Create link", async (data) => {
    const made = await api("/api/shares", { query, method: "POST",
      body: { view: data.get("view"), days: Number(data.get("days")), params: { last_days: String(data.get("last_days")) } } });
    await render(secret(`Link to ${made.view}`, made.url, "Anyone with it sees this view, read-only, until it expires or you revoke it."));
  });
  clear($("#page-body"), shown || [],
    h("section", { class: "panel" }, h("h2", { text: "Links" }), h("div", { class: "table-wrap" }, table([
      ["View", (s) => h("a", { href: s.url, text: s.view })],
      ["Expires", (s) => new Date(s.expires_at * 1000).toISOString().slice(0, 10)],
      ["", (s) => (s.revoked ? h("span", { class: "muted", text: "revoked" })
        : h("button", { type: "button", class: "link danger", text: "Revoke", onclick: async () => {
          await api(`/api/shares/${s.id}`, { query, method: "DELETE" });
          await render();
        } }))],
    ], shares, { empty: "No share links yet.", id: "shares-table" }))),
    h("section", { class: "panel" }, h("h2", { text: "New share link" }),
      h("p", { class: "muted", text: "Replays are never shared; people and sessions only through the API with \"people\": true." }), add, error));
}

page(() => render());
