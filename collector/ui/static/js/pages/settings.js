// Settings: the chosen site's conversion goal, currency, whether it is a shop, its time zone, and
// whether the collector keeps copies of the assets its recordings load (docs/replay.md, Asset copies).
import { $, api, clear, h, page, params } from "../app.js";

// Whether the overview shows cart and revenue cards; auto: when the range has carts or orders.
const SHOP = [["auto", "auto (carts or orders)"], ["yes", "yes"], ["no", "no"]];

function form(site) {
  const s = site.settings || {};
  const goal = h("input", { name: "goal", id: "s-goal", required: true, maxlength: 100, value: s.goal || "purchase",
    list: "s-goals", "aria-label": "Conversion goal" });
  const goals = h("datalist", { id: "s-goals" }, ["purchase", "checkout", "signup"].map((v) => h("option", { value: v })));
  const currency = h("input", { name: "currency", id: "s-currency", maxlength: 3, pattern: "[A-Za-z]{3}",
    placeholder: "e.g. EUR", value: s.currency || "", "aria-label": "Currency" });
  const shop = h("select", { name: "shop", id: "s-shop", "aria-label": "Shop" },
    SHOP.map(([v, t]) => h("option", { value: v, text: t })));
  shop.value = s.shop === true ? "yes" : s.shop === false ? "no" : "auto";
  // The zone whose midnights bound every day of the reports; the collector checks the name.
  const timezone = h("input", { name: "timezone", id: "s-timezone", required: true, maxlength: 64, value: s.timezone || "UTC",
    list: "s-timezones", autocomplete: "off", "aria-label": "Time zone" });
  const zones = h("datalist", { id: "s-timezones" },
    (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : ["UTC"]).map((v) => h("option", { value: v })));
  const assets = h("select", { name: "replay_assets", id: "s-replay-assets", "aria-label": "Replay asset copies" },
    [["on", "on"], ["off", "off"]].map(([v, t]) => h("option", { value: v, text: t })));
  assets.value = s.replay_assets === false ? "off" : "on";
  const status = h("p", { id: "s-status", role: "status", class: "note", hidden: true });
  const node = h("form", { class: "filter-grid", id: "settings-form" },
    h("label", { class: "field" }, h("span", { text: "Conversion goal (event type or track name)" }), goal, goals),
    h("label", { class: "field" }, h("span", { text: "Currency (ISO 4217)" }), currency),
    h("label", { class: "field" }, h("span", { text: "Shop (cart and revenue cards)" }), shop),
    h("label", { class: "field" }, h("span", { text: "Time zone (days run midnight to midnight here)" }), timezone, zones),
    h("label", { class: "field" }, h("span", { text: "Copies of the site's CSS, fonts and images for replays" }), assets),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Save settings" })),
    status);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      goal: goal.value.trim() || "purchase",
      currency: currency.value.trim() ? currency.value.trim().toUpperCase() : null,
      shop: { yes: true, no: false, auto: null }[shop.value],
      timezone: timezone.value.trim() || null,
      replay_assets: assets.value === "on",
    };
    status.hidden = false;
    try {
      const saved = await api(`/api/sites/${encodeURIComponent(site.id)}`, { method: "PATCH", body });
      site.settings = saved.settings;
      if ($("#f-zone")) $("#f-zone").textContent = saved.settings.timezone;  // the toolbar's days follow
      status.className = "note";
      status.textContent = `Saved: goal ${saved.settings.goal}, currency ${saved.settings.currency || "none"}, shop ${shop.value}, time zone ${saved.settings.timezone}.`;
    } catch (error) {
      status.className = "alert";
      status.textContent = `Not saved: ${error.message}`;
    }
  });
  return node;
}

page(async () => {
  const { sites } = await api("/api/sites");
  const site = sites.find((s) => s.id === params.get("site")) || sites[0];
  if (!site) {
    clear($("#page-body"), h("section", { class: "panel" }, h("p", { class: "note", text: "No site yet: add one with `trailmark sites add`." })));
    return;
  }
  clear($("#page-body"), h("section", { class: "panel" },
    h("h2", { text: `${site.name || site.id}` }),
    h("p", { class: "muted", text: `Site id ${site.id} · write key ${site.write_key}` }),
    form(site)));
});
