// Members: who has which role on this site; invite someone (a single-use link), remove a member.
import { $, api, clear, h, page, table } from "../app.js";
import { field, form, roleSelect, secret, siteQuery } from "../team.js";

async function render(shown) {
  const query = await siteQuery();
  const { members } = await api("/api/members", { query });
  const [invite, error] = form("invite-form", [
    field("Email", h("input", { name: "email", type: "email", required: true, placeholder: "name@example.com" })),
    field("Role", roleSelect()),
  ], "Invite", async (data) => {
    const made = await api("/api/members", { query, method: "POST", body: { email: data.get("email"), role: data.get("role") } });
    await render(secret(`Invite link for ${made.email}`, made.invite_url,
      "Send it to them: it works once, for 7 days, and lets them choose a password."));
  });
  clear($("#page-body"), shown || [],
    h("section", { class: "panel" }, h("h2", { text: "Members" }), h("div", { class: "table-wrap" }, table([
      ["Email", (m) => m.email],
      ["Role", (m) => m.role],
      ["Status", (m) => (m.active ? "active" : "invited")],
      ["", (m) => h("button", { type: "button", class: "link danger", text: "Remove", onclick: async () => {
        await api(`/api/members/${m.id}`, { query, method: "DELETE" });
        await render();
      } })],
    ], members, { empty: "No members yet: the admin token is the only way in.", id: "members-table" }))),
    h("section", { class: "panel" }, h("h2", { text: "Invite someone" }),
      h("p", { class: "muted", text: "Viewers see reports only; analysts also sessions, replays, people, funnels and segments; owners manage the site, its members and people's data." }),
      invite, error));
}

page(() => render());
