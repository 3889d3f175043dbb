// One experiment at a glance: which variant wins and how sure, whether the sample is healthy,
// then the evidence per variant with links to its sessions, replays, funnels and paths.
import { $, api, card, clear, fmt, h, link, page, plural, scope, svg, table } from "../app.js";
import { chance, pText, pValue, signed, styles, variantQuery } from "./experiment-view.js";

const key = document.body.dataset.experiment;

function headline(result) {
  const { status, winner } = result.verdict;
  const variants = result.variants;
  const best = variants.find((v) => v.name === winner);
  const level = `${(result.interval_level * 100).toFixed(result.interval_level === 0.95 ? 0 : 1)}% CI`;
  const evidence = (v) => [
    `${signed(v.lift)} conversion vs ${variants[0].name}`,
    v.lift_interval ? `(${level} ${signed(v.lift_interval[0])} to ${signed(v.lift_interval[1])})` : "",
    `· ${chance(v.probability_to_beat)} probability to beat ${variants[0].name}`,
    `· ${pText(v.p_adjusted)}${result.correction ? " (Holm)" : ""}`,
  ].join(" ");
  if (status === "unhealthy") {
    return ["Sample ratio mismatch: do not trust these results",
      `Visitors did not split as the weights say (χ² ${pText(result.sample.srm_p_value)}). Look for redirects, caching or bots that reach one variant more than another.`];
  }
  if (status === "winner") return [`${winner} wins`, evidence(best)];
  if (status === "control") return [`${winner} (control) wins`, `Every variant converts worse than ${winner}.`];
  const leader = variants.slice(1).reduce((a, v) => ((v.probability_to_beat ?? 0) > (a.probability_to_beat ?? 0) ? v : a), variants[1]);
  if (status === "collecting") {
    const smallest = Math.min(...variants.map((v) => v.visitors));
    return ["Still collecting", `The smallest variant has ${plural(smallest, "visitor")}; results read reliably from 100 per variant. Leading so far: ${leader.name}, ${evidence(leader)}.`];
  }
  return ["No variant differs from the control yet", `Closest: ${leader.name}, ${evidence(leader)}.`];
}

function healthPanel(result) {
  const s = result.sample;
  const ok = (good, text) => h("li", {}, h("span", { class: `badge ${good ? "good" : "bad"}`, text: good ? "OK" : "Check" }), h("span", { text }));
  return h("section", { class: "panel", id: "sample-health" }, h("h2", { text: "Is the sample healthy?" }), h("ul", { class: "health" },
    ok(!s.srm, s.srm_p_value === null ? "Split against the weights: not enough visitors to test"
      : `Split against the weights: χ² = ${fmt.num(s.srm_statistic, 2)}, ${pText(s.srm_p_value)} (a mismatch is p < 0.001)`),
    ok(!s.too_small, s.too_small ? "Fewer than 100 visitors in a variant: figures still move a lot" : "At least 100 visitors in every variant"),
    ok(s.crossed === 0, `${plural(s.crossed, "visitor")} saw more than one variant (each counted in the first)`),
    s.unexpected_variants.length
      ? ok(false, `Exposures to variants the definition does not name: ${s.unexpected_variants.map((u) => `${u.name} (${u.visitors})`).join(", ")}`)
      : null));
}

function links(v) {
  const q = variantQuery(key, v.name);
  return h("span", { class: "links" },
    h("a", { href: link("/sessions", q), text: "Sessions" }),
    h("a", { href: link("/sessions", { ...q, replay: "1" }), text: "Replays" }),
    h("a", { href: link("/funnels", q), text: "Funnel" }),
    h("a", { href: link("/paths", q), text: "Paths" }),
    h("a", { href: link("/heatmaps", q), text: "Heatmaps" }));
}

function tone(v) {
  if (v.control || !v.significant) return "";
  return v.difference > 0 ? "good" : "bad";
}

function variantsTable(result) {
  const total = result.variants.reduce((n, v) => n + v.visitors, 0);
  const weights = result.variants.reduce((n, v) => n + v.weight, 0);
  return h("section", { class: "panel", id: "variants" }, h("h2", { text: "Conversion by variant" }), h("div", { class: "table-wrap" }, table([
    ["Variant", (v) => h("span", { class: "variant-name" }, v.name, v.control && v.name !== "control" ? h("span", { class: "badge", text: "control" }) : null)],
    ["Visitors", (v) => fmt.int(v.visitors), { num: true }],
    ["Share (expected)", (v) => `${fmt.pct(total ? v.visitors / total : 0)} (${fmt.pct(v.weight / weights)})`, { num: true, opt: true }],
    ["Conversions", (v) => fmt.int(v.conversions), { num: true }],
    ["Rate", (v) => fmt.pct(v.rate), { num: true }],
    ["Lift", (v) => (v.control ? "–" : h("span", { class: `num ${tone(v)}`, text: signed(v.lift) })), { num: true }],
    [`${(result.interval_level * 100).toFixed(result.interval_level === 0.95 ? 0 : 1)}% interval`, (v) => (v.control || !v.lift_interval ? "–"
      : `${signed(v.lift_interval[0])} to ${signed(v.lift_interval[1])}`), { num: true }],
    [result.correction ? "p (Holm)" : "p-value", (v) => (v.control ? "–" : pValue(v.p_adjusted)), { num: true }],
    ["P(beats control)", (v) => (v.control ? "–" : chance(v.probability_to_beat)), { num: true }],
  ], result.variants, { id: "variants-table" })));
}

function journeys(result) {
  return h("section", { class: "panel", id: "journeys" }, h("h2", { text: "Each variant's journeys" }),
    h("ul", { class: "health" }, result.variants.map((v) => h("li", { "data-variant": v.name },
      h("span", { class: "variant-name", text: v.name }), links(v)))));
}

function liftChart(result) {
  const rows = result.variants.filter((v) => !v.control);
  const bounds = rows.flatMap((v) => (v.lift_interval ? v.lift_interval : v.lift === null ? [] : [v.lift]));
  const lo = Math.min(0, ...bounds), hi = Math.max(0, ...bounds);
  const pad = (hi - lo) * 0.1 || 0.1;
  const [min, max] = [lo - pad, hi + pad];
  // drawn about as wide as its half of the page, so that its text reads at the page's size
  const width = 520, left = 90, right = 20, rowH = 34, top = 24;
  const x = (v) => left + ((v - min) / (max - min)) * (width - left - right);
  const height = top + rows.length * rowH + 10;
  const chart = svg("svg", { class: "lift-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Lift against the control with intervals" },
    svg("line", { class: "zero", x1: x(0), x2: x(0), y1: 14, y2: height - 4 }),
    svg("text", { class: "tick", x: x(0), y: 12, "text-anchor": "middle", text: `0 (= ${result.variants[0].name})` }),
    svg("text", { class: "tick", x: x(min) + 2, y: 12, text: signed(min, 0) }),
    svg("text", { class: "tick", x: x(max), y: 12, "text-anchor": "end", text: signed(max, 0) }),
    rows.map((v, i) => {
      const y = top + i * rowH + rowH / 2;
      const cls = v.significant ? (v.difference > 0 ? "good" : "bad") : "none";
      return [
        svg("text", { x: 8, y: y + 4, text: v.name }),
        v.lift_interval ? svg("line", { class: `ci ${cls}`, x1: x(v.lift_interval[0]), x2: x(v.lift_interval[1]), y1: y, y2: y }) : null,
        v.lift === null ? null : svg("circle", { class: "dot", cx: x(v.lift), cy: y, r: 5 }),
      ];
    }));
  return h("section", { class: "panel", id: "lift" }, h("h2", { text: "Lift against the control" }), chart,
    h("p", { class: "muted", text: "The bar is the interval the true lift lies in with the stated confidence; a bar that crosses the dashed line has not shown a difference." }));
}

function secondary(result) {
  const chosen = result.experiment.metrics;
  const currency = "";
  const columns = [["Variant", (v) => h("span", { class: "variant-name", text: v.name })]];
  if (chosen.includes("revenue")) {
    columns.push(["Revenue / visitor", (v) => fmt.money(v.revenue_per_visitor, currency), { num: true }]);
    columns.push(["Difference (interval)", (v) => (v.control || !v.revenue_difference_interval ? "–"
      : `${fmt.money(v.revenue_difference_interval[0])} to ${fmt.money(v.revenue_difference_interval[1])}`), { num: true }]);
  }
  if (chosen.includes("bounce")) columns.push(["Bounce rate", (v) => fmt.pct(v.bounce_rate), { num: true }]);
  for (const kind of ["nps", "csat", "ces"]) {
    if (chosen.includes(kind)) {
      columns.push([kind.toUpperCase(), (v) => (v[kind].responses ? `${fmt.num(v[kind].score, 1)} (${plural(v[kind].responses, "answer")})` : "–"), { num: true }]);
    }
  }
  return h("section", { class: "panel", id: "secondary" }, h("h2", { text: "Secondary metrics" }),
    columns.length > 1 ? h("div", { class: "table-wrap" }, table(columns, result.variants))
      : h("p", { class: "muted", text: "No secondary metrics chosen for this experiment." }));
}

function definition(result) {
  const e = result.experiment;
  const goal = e.saved_goal ? `saved goal “${e.saved_goal.name}”`
    : result.goal.name ? `custom event “${result.goal.name}”` : `${result.goal.type} event`;
  return h("section", { class: "panel", id: "definition" }, h("h2", { text: "Definition" }), h("dl", { class: "definition" },
    h("dt", { text: "Hypothesis" }), h("dd", { text: e.hypothesis || "–" }),
    h("dt", { text: "Goal" }), h("dd", { text: `${goal}${e.goal != null ? "" : " (the site's goal)"}, counted from each visitor's first exposure` }),
    h("dt", { text: "Variants" }), h("dd", { text: e.variants.map((v) => `${v.name} × ${v.weight}`).join(", ") }),
    h("dt", { text: "Key" }), h("dd", { class: "mono", text: e.key })));
}

page(async () => {
  styles();
  const result = await api(`/api/experiments/${encodeURIComponent(key)}`, { query: scope() });
  document.title = `${result.experiment.name} · Trailmark`;
  $(".page-title").textContent = result.experiment.name;
  const [title, detail] = headline(result);
  const total = result.sample.visitors;
  clear($("#page-body"),
    h("section", { class: `verdict ${result.verdict.status}`, id: "verdict", "data-status": result.verdict.status },
      h("h2", { text: title }), h("p", { text: detail })),
    h("div", { class: "cards" },
      card("Visitors exposed", fmt.int(total), null, "visitors"),
      card("Variants", String(result.variants.length), null, "variants"),
      card("Sample split", result.sample.srm ? "Mismatch" : result.sample.srm_p_value === null ? "–" : "As planned", null, "srm", { small: true }),
      card("Goal", result.experiment.saved_goal?.name || result.goal.name || result.goal.type, null, "goal", { small: true })),
    variantsTable(result),
    h("div", { class: "grid-2" }, liftChart(result), healthPanel(result)),
    secondary(result),
    h("div", { class: "grid-2" }, journeys(result), definition(result)));
});
