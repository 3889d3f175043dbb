// Paths: from one page, the most common pages before and after, as a flow diagram and as tables.
import { $, api, clear, fmt, h, navigate, page, params, scope, svg } from "../app.js";

const PER_COLUMN = 7;

/** Columns -depth..depth of nodes, and links between adjacent columns, from the API's link lists. */
function graph(data) {
  const nodes = new Map(); // "col|path" -> {col, path, value}
  const links = [];
  const node = (col, path) => {
    const key = `${col}|${path}`;
    if (!nodes.has(key)) nodes.set(key, { col, path, in: 0, out: 0 });
    return nodes.get(key);
  };
  for (const l of data.next_links) {
    const a = node(l.step - 1, l.source);
    const b = node(l.step, l.target);
    a.out += l.sessions; b.in += l.sessions;
    links.push({ a, b, value: l.sessions });
  }
  for (const l of data.previous_links) {
    const b = node(-(l.step - 1), l.source);
    const a = node(-l.step, l.target);
    a.out += l.sessions; b.in += l.sessions;
    links.push({ a, b, value: l.sessions });
  }
  for (const n of nodes.values()) n.value = Math.max(n.in, n.out);
  // Keep the biggest nodes per column; links to the rest are left out of the drawing.
  const kept = new Set();
  const cols = [...new Set([...nodes.values()].map((n) => n.col))].sort((x, y) => x - y);
  const columns = cols.map((c) => {
    const list = [...nodes.values()].filter((n) => n.col === c).sort((x, y) => y.value - x.value || x.path.localeCompare(y.path)).slice(0, PER_COLUMN);
    list.forEach((n) => kept.add(n));
    return list;
  });
  return { columns, links: links.filter((l) => kept.has(l.a) && kept.has(l.b)) };
}

function flow(data, available) {
  const { columns, links } = graph(data);
  if (!columns.length) return h("p", { class: "empty", text: "No session visited this page in the range." });
  // Drawn at the panel's own width so that labels keep their size on a tablet.
  const width = Math.max(640, Math.min(1400, available || 1100));
  const colW = 14;
  const gap = 14;
  const top = 28;
  const totals = columns.map((col) => col.reduce((sum, n) => sum + n.value, 0));
  const maxTotal = Math.max(1, ...totals);
  const maxCount = Math.max(...columns.map((c) => c.length));
  const height = Math.max(260, 40 + maxCount * 46);
  const scale = (height - top - 10 - gap * (maxCount - 1)) / maxTotal;
  const step = (width - 180) / Math.max(1, columns.length - 1);
  const maxChars = Math.max(8, Math.floor((step - colW - 14) / 7));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Page flow" });
  columns.forEach((col, i) => {
    let y = top;
    const label = col[0].col === 0 ? "Page" : col[0].col > 0 ? `Next ${col[0].col}` : `Before ${-col[0].col}`;
    root.append(svg("text", { x: 90 + i * step, y: 14, "text-anchor": "middle", class: "count", text: label }));
    for (const n of col) {
      n.x = 90 + i * step - colW / 2;
      n.y = y;
      n.h = Math.max(3, n.value * scale);
      n.inY = n.y;
      n.outY = n.y;
      y += n.h + gap;
    }
  });
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
  for (const col of columns) {
    for (const n of col) {
      const anchorEnd = n.col < 0;
      const g = svg("g", { class: `node${n.col === 0 ? " center" : ""}`, "data-col": n.col, "data-path": n.path });
      g.append(svg("rect", { x: n.x, y: n.y, width: colW, height: n.h }, svg("title", { text: `${n.path}: ${n.value}` })));
      const tx = anchorEnd ? n.x - 6 : n.x + colW + 6;
      const text = n.path.length > maxChars ? `${n.path.slice(0, maxChars - 1)}…` : n.path;
      g.append(svg("text", { x: tx, y: n.y + Math.min(n.h, 28) / 2 + 4, "text-anchor": anchorEnd ? "end" : "start", text }));
      g.append(svg("text", { x: tx, y: n.y + Math.min(n.h, 28) / 2 + 18, "text-anchor": anchorEnd ? "end" : "start", class: "count", text: fmt.int(n.value) }));
      root.append(g);
    }
  }
  return root;
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
  clear($("#path-tables"), levels("Before", data.previous, "paths-previous"), levels("Next", data.next, "paths-next"));
});
