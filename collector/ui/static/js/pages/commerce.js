// Commerce: revenue and orders per day, top products, cart abandonment with the abandoned sessions.
import { $, api, card, clear, csvLink, fmt, h, page, personLink, scope, sessionLink, table, timeChart } from "../app.js";

page(async () => {
  const data = await api("/api/commerce", { query: scope() });
  const body = $("#page-body");
  const chartNode = h("div", { class: "chart", id: "chart" });
  clear(body,
    h("section", { class: "cards", id: "kpis" },
      card("Revenue", fmt.money(data.revenue), null, "revenue"),
      card("Orders", fmt.int(data.orders), null, "orders"),
      card("Avg. order value", fmt.money(data.aov), null, "aov"),
      card("Sessions with a cart", fmt.int(data.cart_sessions), null, "cart_sessions"),
      card("Cart abandonment", fmt.pct(data.cart_abandonment_rate), null, "cart_abandonment_rate")),
    h("section", { class: "panel" }, h("h2", { text: "Revenue per day" }), chartNode),
    h("div", { class: "grid-2" },
      h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", { text: "Top products" }), csvLink("/api/commerce", "products")), h("div", { class: "table-wrap" }, table([
        ["Product", (p) => h("span", {}, p.name || p.sku, " ", h("span", { class: "muted mono", text: p.sku }))],
        ["Qty", (p) => fmt.int(p.quantity), { num: true }],
        ["Orders", (p) => fmt.int(p.orders), { num: true }],
        ["Revenue", (p) => fmt.money(p.revenue), { num: true }],
      ], data.products, { empty: "No purchases in this range.", id: "products" }))),
      h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", { text: `Abandoned carts (${fmt.int(data.abandoned_sessions)})` }), csvLink("/api/commerce", "abandoned")), h("div", { class: "table-wrap" }, table([
        ["Session", (s) => sessionLink(s.id, fmt.short(s.first_ts)), { cls: "nowrap" }],
        ["Visitor", (s) => personLink(s.visitor_id)],
        ["Cart value", (s) => fmt.money(s.cart_value), { num: true }],
        ["", (s) => (s.has_replay ? h("a", { class: "badge info", href: `/sessions/${encodeURIComponent(s.id)}/replay`, text: "replay" }) : "")],
      ], data.abandoned, { empty: "No abandoned carts.", id: "abandoned" })))));
  const xs = data.series.map((d) => Date.parse(`${d.date}T00:00:00Z`));
  timeChart(chartNode, xs, [
    { label: "Revenue", values: data.series.map((d) => d.revenue), format: (v) => fmt.money(v) },
    { label: "Orders", values: data.series.map((d) => d.orders), scale: "orders" },
  ], { height: 240 });
});
