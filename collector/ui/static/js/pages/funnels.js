// Funnels: a step builder (kept in the URL as `steps`), a bar chart of visitors per step, drop-offs.
import { $, api, card, clear, filters, fmt, h, navigate, page, params, plural, range, sessionLink, shortId } from "../app.js";

const TYPES = ["pageview", "click", "cart", "checkout", "purchase", "track", "identify", "survey", "error"];
// Any pageview first: a site whose pages live under a prefix (the demo shop) still shows a funnel.
const DEFAULT = [{ type: "pageview" }, { type: "cart", name: "add" }, { type: "purchase" }];

function currentSteps() {
  try {
    const steps = JSON.parse(params.get("steps") || "null");
    if (Array.isArray(steps) && steps.length >= 2) return steps;
  } catch {
    // a hand-edited URL: fall back to the default funnel
  }
  return DEFAULT;
}

function stepRow(step = { type: "pageview" }) {
  const type = h("select", { name: "type", "aria-label": "Event type" }, TYPES.map((t) => h("option", { value: t, text: t })));
  type.value = step.type || "pageview";
  const url = h("input", { name: "url", placeholder: "URL, /path, /pattern/* or /route/:id", "aria-label": "URL" });
  url.value = step.url || "";
  const name = h("input", { name: "name", placeholder: "name (track name, cart add, …)", "aria-label": "Name" });
  name.value = step.name || "";
  const row = h("li", {}, h("div", { class: "step-row" }, type, url, name,
    h("button", { type: "button", class: "link danger", text: "Remove", onclick: () => {
      if ($("#steps").children.length > 2) row.remove();
    } })));
  return row;
}

function readSteps() {
  return [...$("#steps").children].map((li) => {
    const step = { type: li.querySelector("[name=type]").value };
    const url = li.querySelector("[name=url]").value.trim();
    const name = li.querySelector("[name=name]").value.trim();
    if (url) step.url = url;
    if (name) step.name = name;
    return step;
  });
}

function stepLabel(step) {
  return [step.type, step.name, step.url].filter(Boolean).join(" · ");
}

function chart(result) {
  const top = Math.max(1, result.steps[0].visitors);
  // A bar is as tall as the visitors who reached the step (step 1 is the full height); its hatched
  // top is the share of them that went no further, the solid rest went on to the next step.
  const bars = h("div", { class: "funnel-bars", id: "funnel-chart" }, result.steps.map((s) => {
    const stack = h("div", { class: "stack", "data-step": s.step, title: plural(s.visitors, "visitor") });
    stack.style.height = `${(s.visitors / top) * 100}%`;
    const lost = h("div", { class: "lost", title: `${fmt.int(s.dropped)} dropped here` });
    lost.style.height = `${s.visitors ? (s.dropped / s.visitors) * 100 : 0}%`;
    const kept = h("div", { class: "kept" });
    kept.style.height = `${s.visitors ? ((s.visitors - s.dropped) / s.visitors) * 100 : 0}%`;
    stack.append(lost, kept);
    return h("div", { class: "funnel-col" }, stack);
  }));
  const labels = h("div", { class: "funnel-labels" }, result.steps.map((s) => h("div", { "data-step": s.step },
    h("div", { class: "name", text: `${s.step}. ${stepLabel(s)}` }),
    h("div", { "data-field": "visitors", text: plural(s.visitors, "visitor") }),
    h("div", { class: "muted", "data-field": "conversion", text: `${fmt.pct(s.conversion)} of previous · ${fmt.pct(s.conversion_from_start)} of start` }),
    s.median_s_from_previous !== null && s.median_s_from_previous !== undefined
      ? h("div", { class: "muted", text: `median ${fmt.duration(s.median_s_from_previous)} from previous` }) : null)));
  return [bars, labels];
}

const PAGE = 10;

/** One step's dropped sessions, PAGE at a time with previous/next. */
function dropList(s) {
  const list = h("ul", { class: "comments" });
  const status = h("span", { class: "muted", "data-field": "page" });
  const prev = h("button", { type: "button", "data-action": "prev", text: "← Previous" });
  const next = h("button", { type: "button", "data-action": "next", text: "Next →" });
  const rows = s.dropped_sessions;
  let at = 0;
  const show = () => {
    clear(list, rows.slice(at, at + PAGE).map((d) => h("li", {},
      sessionLink(d.id, `Session ${String(d.id).slice(0, 12)}`), " ",
      h("span", { class: "muted mono", title: d.visitor_id, text: shortId(d.visitor_id, 16) }), " ",
      d.has_replay ? h("a", { class: "badge info", href: `/sessions/${encodeURIComponent(d.id)}/replay`, text: "replay" }) : null)));
    status.textContent = `${fmt.int(at + 1)}–${fmt.int(Math.min(at + PAGE, rows.length))} of ${fmt.int(rows.length)}`
      + (rows.length < s.dropped ? ` listed (${fmt.int(s.dropped)} dropped)` : "");
    prev.disabled = at === 0;
    next.disabled = at + PAGE >= rows.length;
  };
  prev.addEventListener("click", () => { at = Math.max(0, at - PAGE); show(); });
  next.addEventListener("click", () => { at += PAGE; show(); });
  show();
  return h("div", { class: "panel", "data-dropped-step": s.step },
    h("h2", { text: `Dropped after step ${s.step}: ${fmt.int(s.dropped)}` }), list,
    rows.length > PAGE ? h("div", { class: "pager row" }, prev, status, next) : null);
}

function dropoffs(result) {
  const lists = result.steps.filter((s) => s.dropped > 0).map(dropList);
  return lists.length ? h("div", { class: "grid-2" }, lists) : h("p", { class: "muted", text: "Nobody dropped out." });
}

page(async () => {
  const steps = currentSteps();
  const windowS = Number(params.get("window_s")) || 86400;
  clear($("#steps"), steps.map(stepRow));
  $("#window-h").value = String(Math.round(windowS / 3600));
  $("#add-step").addEventListener("click", () => $("#steps").append(stepRow()));
  $("#funnel-form").addEventListener("submit", (event) => {
    event.preventDefault();
    navigate({ steps: JSON.stringify(readSteps()), window_s: String(Math.max(1, Number($("#window-h").value) || 24) * 3600) });
  });
  const { from, to } = range();
  const body = { steps, window_s: windowS, from, to, filters: filters() };
  if (params.get("site")) body.site = params.get("site");
  if (params.get("segment")) body.segment = params.get("segment");
  const result = await api("/api/funnel", { method: "POST", body });
  const last = result.steps[result.steps.length - 1];
  clear($("#funnel-result"),
    h("div", { class: "cards" },
      card("Entered", fmt.int(result.steps[0].visitors), null, "entered"),
      card("Completed", fmt.int(last.visitors), null, "completed"),
      card("Overall conversion", fmt.pct(result.overall_conversion), null, "overall")),
    chart(result));
  $("#funnel-result").after(dropoffs(result));
});
