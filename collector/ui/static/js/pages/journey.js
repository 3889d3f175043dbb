// The journey map as journey-mapping practice draws it: stages left to right, and under each the
// touchpoints, what people do, how they feel (a line through the survey scores), pain points and
// where people drop out, with replays of those who left.
import { $, api, clear, fmt, h, link, page, params, personLink, scope, sessionLink, svg, table } from "../app.js";

const people = (n) => `${fmt.int(n)} ${n === 1 ? "person" : "people"}`;

const LANES = [
  ["touchpoints", "Touchpoints"],
  ["doing", "What people do"],
  ["feeling", "How they feel"],
  ["pain", "Pain points"],
  ["dropoff", "Drop-off"],
];
// A stage is a pain point when any of these per-session rates reaches the threshold.
const FRICTION = [["rage_per_session", "rage clicks"], ["dead_per_session", "dead clicks"], ["errors_per_session", "errors"]];
const FRICTION_THRESHOLD = 0.1;

const chips = (rows, cls = "") => (rows.length
  ? h("ul", { class: "jm-list" }, rows.map((r) => h("li", { class: cls }, h("span", { class: "jm-name", text: r.name }), h("span", { class: "jm-count", text: fmt.int(r.people) }))))
  : h("p", { class: "muted", text: "–" }));

function painPoints(stage) {
  const points = [];
  for (const [key, label] of FRICTION) {
    if (stage.friction[key] >= FRICTION_THRESHOLD) points.push(`${fmt.num(stage.friction[key], 2)} ${label} per session`);
  }
  if (stage.emotion !== null && stage.emotion < 0) points.push(`feels negative (${fmt.num(stage.emotion, 0)})`);
  if (stage.cx.nps.score !== null && stage.cx.nps.score < 0) points.push(`NPS ${fmt.num(stage.cx.nps.score, 0)}`);
  if (stage.cx.ces.score !== null && stage.cx.ces.score < 0) points.push(`hard to do (CES ${fmt.num(stage.cx.ces.score, 0)})`);
  return points;
}

function cxLine(stage) {
  const parts = ["nps", "csat", "ces"].filter((k) => stage.cx[k].responses)
    .map((k) => `${k.toUpperCase()} ${fmt.num(stage.cx[k].score, 0)} (${stage.cx[k].responses})`);
  return parts.length ? parts.join(" · ") : "no answers";
}

/** The emotion line: one point per stage on -100..100, a gap where a stage has no answers. */
function emotionLine(stages) {
  const width = 200 * stages.length;
  const y = (v) => 70 - (v / 100) * 55;
  const x = (k) => 200 * k + 100;
  const parts = [svg("line", { x1: 0, x2: width, y1: y(0), y2: y(0), class: "jm-zero" })];
  let run = [];
  const flush = () => {
    if (run.length > 1) parts.push(svg("polyline", { points: run.join(" "), class: "jm-mood" }));
    run = [];
  };
  stages.forEach((s, k) => {
    if (s.emotion === null) return flush();
    run.push(`${x(k)},${y(s.emotion)}`);
  });
  flush();
  stages.forEach((s, k) => {
    if (s.emotion === null) return;
    const tone = s.emotion >= 20 ? "good" : s.emotion < 0 ? "bad" : "mid";
    parts.push(svg("circle", { cx: x(k), cy: y(s.emotion), r: 7, class: `jm-dot ${tone}`, "data-stage": s.key }));
    parts.push(svg("text", { x: x(k), y: y(s.emotion) - 12, class: "jm-dot-label", text: fmt.num(s.emotion, 0) }));
  });
  return svg("svg", { class: "jm-emotion", viewBox: `0 0 ${width} 140`, preserveAspectRatio: "none", role: "img", "aria-label": "Emotion per stage" }, parts);
}

function worstDrop(stages) {
  let worst = null;
  for (const s of stages) {
    if (s.dropped && (worst === null || s.dropped / s.people > worst.dropped / worst.people)) worst = s;
  }
  return worst;
}

function cell(stage, lane, worst) {
  if (lane === "touchpoints") {
    return [chips(stage.touchpoints, "jm-touchpoint"), stage.pages.length ? h("div", { class: "jm-sub", text: "Pages" }) : null, stage.pages.length ? chips(stage.pages) : null];
  }
  if (lane === "doing") return chips(stage.actions);
  if (lane === "feeling") return h("p", { class: "jm-cx", text: cxLine(stage) });
  if (lane === "pain") {
    const points = painPoints(stage);
    return points.length ? h("ul", { class: "jm-pains" }, points.map((p) => h("li", { text: p }))) : h("p", { class: "muted", text: "none seen" });
  }
  if (stage.dropped === null) return h("p", { class: "muted", text: "last stage" });
  return [
    h("p", { class: `jm-drop${stage === worst ? " worst" : ""}`, text: `${people(stage.dropped)} left (${fmt.pct(stage.people ? stage.dropped / stage.people : 0)})` }),
    stage.exits.pages.length ? h("div", { class: "jm-sub", text: "Last page" }) : null,
    stage.exits.pages.length ? chips(stage.exits.pages) : null,
    stage.exits.touchpoints.length ? h("div", { class: "jm-sub", text: "Went to" }) : null,
    stage.exits.touchpoints.length ? chips(stage.exits.touchpoints, "jm-touchpoint") : null,
    stage.dropped_replays.length ? h("div", { class: "jm-replays" }, stage.dropped_replays.map((r) => sessionLink(r.session_id, "▶ replay"))) : null,
  ];
}

/** The likely outcome beside the map: the model's honesty first (status, AUC, calibration), then who. */
function outcomePanel(p) {
  const q = p.quality;
  const filtered = (label) => h("a", { href: link("/sessions", { outcome: label }), text: "sessions" });
  return h("section", { class: "panel", id: "outcome" },
    h("div", { class: "panel-head" }, h("h2", { text: `Likely outcome: ${p.goal || "purchase"} in the next ${p.horizon_days || 7} days` }),
      h("button", { type: "button", id: "retrain", text: "Retrain now" })),
    h("p", { class: `jm-status ${p.status}`, "data-status": p.status, text: p.reason }),
    q ? h("div", { class: "grid-2" },
      h("div", {},
        h("dl", { class: "facts" },
          h("div", {}, h("dt", { text: "AUC on held-out people" }), h("dd", { id: "outcome-auc", text: `${fmt.num(q.auc, 2)} (95% ${fmt.num(q.auc_low, 2)}–${fmt.num(q.auc_high, 2)})` })),
          h("div", {}, h("dt", { text: "Held out" }), h("dd", { text: `${fmt.int(q.test_rows)} rows: ${fmt.int(q.test_positives)} buyers, ${fmt.int(q.test_negatives)} others` }))),
        h("div", { class: "table-wrap" }, table([
          ["Predicted", (b) => `${fmt.pct(b.from)}–${fmt.pct(b.to)}`],
          ["Rows", (b) => fmt.int(b.rows), { num: true }],
          ["Mean predicted", (b) => fmt.pct(b.predicted), { num: true }],
          ["Observed", (b) => fmt.pct(b.observed), { num: true }],
        ], q.calibration, { id: "calibration" }))),
      h("div", { class: "table-wrap" }, table([
        ["Feature", (f) => f.name],
        ["Weight", (f) => fmt.num(f.weight, 2), { num: true }],
      ], p.features.slice(0, 8), { id: "outcome-features" }))) : null,
    p.status === "ready" ? h("div", { class: "grid-2" },
      h("div", {}, h("h3", {}, `Likely to buy (${fmt.int(p.counts.likely || 0)}) · `, filtered("likely")),
        table([["Person", (r) => personLink(r.visitor_id)], ["Probability", (r) => fmt.pct(r.probability), { num: true }]], p.likely, { id: "outcome-likely", empty: "Nobody." })),
      h("div", {}, h("h3", {}, `At risk (${fmt.int(p.counts.at_risk || 0)}) · `, filtered("at_risk")),
        table([["Person", (r) => personLink(r.visitor_id)], ["Probability", (r) => fmt.pct(r.probability), { num: true }]], p.at_risk, { id: "outcome-at-risk", empty: "Nobody." }))) : null,
    p.open_sessions && p.open_sessions.length ? h("div", {}, h("h3", { text: "Open sessions" }),
      table([["Session", (r) => sessionLink(r.session_id)], ["Person", (r) => personLink(r.visitor_id)], ["Probability", (r) => fmt.pct(r.probability), { num: true }]], p.open_sessions, { id: "outcome-open" })) : null);
}

async function showOutcome(mount, query) {
  const p = await api("/api/predictions", { query });
  clear(mount, outcomePanel(p));
  $("#retrain", mount).addEventListener("click", async (event) => {
    event.target.disabled = true;
    event.target.textContent = "Training…";
    clear(mount, outcomePanel(await api("/api/predictions/train", { query, method: "POST" })));
  });
}

page(async () => {
  const data = await api("/api/journey-map", { query: scope() });
  const stages = data.stages;
  const worst = worstDrop(stages);
  const grid = h("div", { class: "jm-grid", id: "journey-map" });
  grid.style.gridTemplateColumns = `140px repeat(${stages.length}, minmax(0, 1fr))`;
  grid.append(h("div", { class: "jm-corner", text: people(data.people) }));
  stages.forEach((s, k) => {
    const pain = painPoints(s).length > 0;
    const last = k === stages.length - 1;
    grid.append(h("div", { class: `jm-stage${pain ? " pain" : ""}${s === worst ? " drop" : ""}${last ? " last" : ""}`, "data-stage": s.key },
      h("div", { class: "jm-stage-name", text: s.label }),
      h("div", { class: "jm-stage-people", text: people(s.people) }),
      h("div", { class: "muted", text: k === 0 ? `${fmt.pct(s.conversion)} of visitors` : `${fmt.pct(s.conversion)} from ${stages[k - 1].label}` }),
      h("div", { class: "muted", text: s.median_s_to_next === null ? "" : `median ${fmt.duration(s.median_s_to_next)} to next` })));
  });
  for (const [lane, title] of LANES) {
    grid.append(h("div", { class: "jm-lane", text: title }));
    if (lane === "feeling") {
      const row = h("div", { class: "jm-feeling", "data-lane": lane }, emotionLine(stages),
        h("div", { class: "jm-feeling-cells" }, stages.map((s) => h("div", { "data-stage": s.key }, cell(s, lane, worst)))));
      row.style.gridColumn = `2 / span ${stages.length}`;
      row.lastChild.style.gridTemplateColumns = `repeat(${stages.length}, minmax(0, 1fr))`;
      grid.append(row);
      continue;
    }
    for (const s of stages) {
      const pain = lane === "pain" && painPoints(s).length > 0;
      const drop = lane === "dropoff" && s === worst;
      grid.append(h("div", { class: `jm-cell${pain ? " pain" : ""}${drop ? " drop" : ""}`, "data-lane": lane, "data-stage": s.key }, cell(s, lane, worst)));
    }
  }
  clear($("#page-body"),
    h("section", { class: "panel jm-panel" },
      h("div", { class: "panel-head" }, h("h2", { text: "Customer journey" }),
        h("span", { class: "muted", text: data.custom_stages ? "the site's own stages" : "default shop stages" })),
      data.people ? grid : h("p", { class: "empty", text: "No visitors in this range." })),
    h("p", { class: "muted" }, "Stages and their rules: ", h("a", { href: link("/api/journey-map/stages"), text: "/api/journey-map/stages" }),
      ". Emotion: each survey answer on -100..100, averaged per stage."),
    h("div", { id: "outcome-mount" }));
  const site = new URLSearchParams();
  if (params.get("site")) site.set("site", params.get("site"));
  await showOutcome($("#outcome-mount"), site);
});
