// Paths: from one page, the most common pages before and after, as a flow diagram and as tables.
import { $, api, clear, fmt, h, navigate, page, params, scope, svg } from "../app.js";

const OTHER = "(other)";  // the node the API folds a column's quieter pages into
const LABEL_H = 32;  // a node's two label lines (path, count) need this much height
const MARGIN = 170;  // room for the labels left of the first column and right of the last

/** Columns -depth..depth of nodes, and links between adjacent columns, from the API's link lists
 * (already folded: no column holds more pages than it can draw). */
function graph(data) {
  const raw = [];
  for (const l of data.next_links) raw.push({ ac: l.step - 1, a: l.source, bc: l.step, b: l.target, value: l.sessions });
  for (const l of data.previous_links) raw.push({ ac: -l.step, a: l.target, bc: -(l.step - 1), b: l.source, value: l.sessions });
  const nodes = new Map();
  const node = (col, path) => {
    const key = `${col}|${path}`;
    if (!nodes.has(key)) nodes.set(key, { col, path, in: 0, out: 0 });
    return nodes.get(key);
  };
  const links = raw.map((l) => {
    const a = node(l.ac, l.a);
    const b = node(l.bc, l.b);
    a.out += l.value;
    b.in += l.value;
    return { a, b, value: l.value };
  });
  for (const n of nodes.values()) {
    n.value = Math.max(n.in, n.out);
    if (n.path === OTHER) {
      // What "(other)" holds: how many pages, and those of them the step table names.
      const [counts, levels] = n.col > 0 ? [data.folded.next, data.next] : [data.folded.previous, data.previous];
      const level = levels.find((l) => l.step === Math.abs(n.col));
      const named = (level ? level.pages : []).map((p) => p.path).filter((path) => !nodes.has(`${n.col}|${path}`));
      n.folded = { count: counts[Math.abs(n.col) - 1], named };
    }
  }
  const cols = [...new Set([...nodes.values()].map((n) => n.col))].sort((x, y) => x - y);
  const columns = cols.map((c) => [...nodes.values()].filter((n) => n.col === c)
    .sort((x, y) => (x.path === OTHER) - (y.path === OTHER) || y.value - x.value || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)));
  return { columns, links };
}

function flow(data, available) {
  const { columns, links } = graph(data);
  if (!columns.length) return h("p", { class: "empty", text: "No session visited this page in the range." });
  // Drawn at the panel's own width so that labels keep their size on a tablet.
  const width = Math.max(640, Math.min(1400, available || 1100));
  const colW = 14;
  const gap = 12;
  const top = 28;
  const totals = columns.map((col) => col.reduce((sum, n) => sum + n.value, 0));
  const maxTotal = Math.max(1, ...totals);
  const maxCount = Math.max(...columns.map((c) => c.length));
  const left = columns[0][0].col < 0 ? MARGIN : 24;
  const right = columns[columns.length - 1][0].col >= 0 ? MARGIN : 24;
  const step = (width - left - right) / Math.max(1, columns.length - 1);
  // Bands share what is left once every node has room for its label.
  const bandRoom = Math.max(120, 40 + maxCount * 46 - maxCount * (LABEL_H + gap));
  const scale = bandRoom / maxTotal;
  let height = 0;
  const root = svg("svg", { role: "img", "aria-label": "Page flow" });
  columns.forEach((col, i) => {
    let y = top;
    const cx = left + i * step;
    const label = col[0].col === 0 ? "Page" : col[0].col > 0 ? `Next ${col[0].col}` : `Before ${-col[0].col}`;
    root.append(svg("text", { x: cx, y: 14, "text-anchor": "middle", class: "count", text: label }));
    for (const n of col) {
      n.x = cx - colW / 2;
      n.y = y;
      n.h = Math.max(3, n.value * scale);
      n.inY = n.y;
      n.outY = n.y;
      // Labels sit beside their node; the labels' heights, not only the bands', space the nodes.
      y += Math.max(n.h, LABEL_H) + gap;
    }
    height = Math.max(height, y);
  });
  height = Math.max(200, height + 4);
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  for (const l of links.sort((p, q) => q.value - p.value)) {
    const w = Math.max(1.5, l.value * scale);
    const x1 = l.a.x + colW;
    const y1 = l.a.outY + w / 2;
    const x2 = l.b.x;
    const y2 = l.b.inY + w / 2;
    l.a.outY += w;
    l.b.inY += w;
    const mid = (x1 + x2) / 2;
    root.append(svg("path", { class: "link", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, "stroke-width": w },
      svg("title", { text: `${l.a.path} → ${l.b.path}: ${l.value} sessions` })));
  }
  columns.forEach((col, i) => {
    for (const n of col) {
      const anchorEnd = n.col < 0;
      // The room a label has: up to the neighbouring column's node, or to the drawing's edge.
      const room = anchorEnd ? (i === 0 ? n.x - 10 : step - colW - 16) : (i === columns.length - 1 ? width - (n.x + colW) - 10 : step - colW - 16);
      const g = svg("g", { class: `node${n.col === 0 ? " center" : ""}${n.path === OTHER ? " other" : ""}`, "data-col": n.col, "data-path": n.path });
      const more = n.path === OTHER && n.folded.count > n.folded.named.length ? ", …" : "";
      const folded = n.path === OTHER ? `${n.folded.count} pages: ${n.folded.named.join(", ")}${more}` : n.path;
      g.append(svg("rect", { x: n.x, y: n.y, width: colW, height: n.h }, svg("title", { text: `${folded}: ${n.value}` })));
      const tx = anchorEnd ? n.x - 6 : n.x + colW + 6;
      const anchor = anchorEnd ? "end" : "start";
      const text = n.path === OTHER ? `other (${n.folded.count} pages)` : n.path;
      g.append(svg("text", { x: tx, y: n.y + 12, "text-anchor": anchor, class: "label", "data-room": Math.floor(room), "data-full": text, text },
        svg("title", { text: folded })));
      g.append(svg("text", { x: tx, y: n.y + 26, "text-anchor": anchor, class: "count", text: fmt.int(n.value) }));
      root.append(g);
    }
  });
  return root;
}

/** Shorten each label (with an ellipsis) until it fits the room beside its node; needs the SVG on the page. */
function fitLabels(root) {
  const ratio = root.getBoundingClientRect().width / root.viewBox.baseVal.width || 1;
  for (const text of root.querySelectorAll("text.label")) {
    const room = Number(text.dataset.room) * ratio;
    const full = text.dataset.full;
    const title = text.querySelector("title");
    let keep = full.length;
    const set = (value) => { text.firstChild.nodeValue = value; };
    while (keep > 1 && text.getBoundingClientRect().width > room) {
      keep -= 1;
      set(`${full.slice(0, keep)}…`);
    }
    if (title) text.append(title);
  }
}

function levels(title, levelsList, id) {
  return h("section", { class: "panel", id }, h("h2", { text: title }),
    levelsList.map((level) => h("div", { class: "table-wrap" }, h("table", { class: "table", "data-step": level.step },
      h("thead", {}, h("tr", {}, h("th", { text: `Step ${level.step}` }), h("th", { class: "num", text: "Sessions" }))),
      h("tbody", {}, level.pages.length ? level.pages.map((p) => h("tr", {}, h("td", { class: "url", text: p.path }),
        h("td", { class: "num", text: fmt.int(p.sessions) }))) : h("tr", {}, h("td", { colspan: 2, class: "empty", text: "–" })))))));
}

page(async () => {
  // Without a page chosen, the API starts from the site's most viewed page and says which.
  const chosen = params.get("from_url") || "";
  $("#paths-form").addEventListener("submit", (event) => {
    event.preventDefault();
    navigate({ from_url: $("#from-url").value.trim() });
  });
  const data = await api("/api/paths", { query: scope({ ...(chosen ? { from_url: chosen } : {}), depth: "3" }) });
  const fromUrl = data.from_url;
  $("#from-url").value = fromUrl;
  clear($("#flow"), h("div", { class: "panel-head" }, h("h2", { text: `Journeys through ${fromUrl}` }),
    h("span", { class: "muted", id: "paths-sessions", text: `${fmt.int(data.sessions)} sessions` })), flow(data, $("#flow").clientWidth));
  const drawn = $("#flow svg");
  if (drawn) fitLabels(drawn);
  clear($("#path-tables"), levels("Before", data.previous, "paths-previous"), levels("Next", data.next, "paths-next"));
});
