// Trailmark replay player: rrweb-player plus Trailmark's own events as timeline markers and a side list.
// `mount(element, sessionId)` plays a session in `element` (the replay page, js/pages/replay.js);
// `settleAnimations` serves the heatmap page's "as clicked" view too. It needs rrweb-player's script
// (window.rrwebPlayer) loaded first. Data never becomes markup: text goes through app.js `h`.
import { api, fmt, h } from "./app.js";

var SPEEDS = [1, 2, 4, 8];
// A recording comes in pages of chunks (GET .../replay?from_seq=N); the player keeps this much
// recording loaded ahead of the playhead and appends the next page as it plays, so a long or
// huge recording never sits in the tab whole.
var AHEAD_MS = 120000;
// rrweb's event kinds (EventType and IncrementalSource in @rrweb/types) that the player reads
var FULL_SNAPSHOT = 2;
var INCREMENTAL_SNAPSHOT = 3;
var META = 4;
var MUTATION = 0;

function el(tag, cls, text) {
  return h(tag, { class: cls || undefined, text: text == null ? undefined : text });
}

function clock(ms) {
  var s = Math.max(0, Math.floor(ms / 1000));
  var m = Math.floor(s / 60);
  return m + ":" + String(s % 60).padStart(2, "0");
}

// The session's length as the dashboard's facts and list write it.
function sessionDuration(ms) {
  return fmt.duration(ms / 1000);
}

function path(url) {
  try { return new URL(url).pathname; } catch (_) { return url || ""; }
}

/** What a Trailmark event is called on the timeline: its kind (for colour) and a short label. */
function describe(e) {
  var item = e.item || {};
  switch (e.type) {
    case "pageview": return { kind: "pageview", label: "Pageview " + path(e.url) };
    case "click": {
      var what = e.text || e.name || e.tag || "";
      if (e.rage) return { kind: "rage", label: "Rage click " + what };
      return { kind: e.dead ? "dead" : "click", label: (e.dead ? "Dead click " : "Click ") + what };
    }
    case "cart": return { kind: "cart", label: "Cart " + (e.action || e.name) + " " + (item.name || item.sku || "") };
    case "checkout": return { kind: "cart", label: "Checkout " + (e.value != null ? e.value + " " + (e.currency || "") : "") };
    case "purchase": return { kind: "purchase", label: "Purchase " + (e.value != null ? e.value + " " + (e.currency || "") : "") };
    case "error": return { kind: "error", label: "Error " + (e.message || "") };
    case "survey": return { kind: "survey", label: "Survey " + String(e.kind || e.name || "").toUpperCase() + " " + e.score };
    default: return null;
  }
}

function facts(s) {
  var dl = el("dl", "tm-facts");
  var rows = [
    ["Device", [s.device, s.os].filter(Boolean).join(" · ")],
    ["Browser", [s.browser, s.browser_version].filter(Boolean).join(" ")],
    ["Country", s.country_name || s.country],
    ["Channel", s.channel],
    ["Entry URL", s.entry_url],
    ["Duration", sessionDuration(s.duration_ms || (s.last_ts - s.first_ts) || 0)],
  ];
  rows.forEach(function (r) {
    dl.appendChild(el("dt", null, r[0]));
    dl.appendChild(el("dd", null, r[1] || "—"));
  });
  return dl;
}

function playerClass() {
  var m = window.rrwebPlayer;
  return m && (m.Player || m.default || m);
}

export function mount(root, sessionId) {
  if (!root || root.dataset.mounted) return;
  root.dataset.mounted = "1";
  root.classList.add("tm-replay");
  root.textContent = "";
  var status = el("p", "tm-status", "Loading replay…");
  root.appendChild(status);
  var sid = encodeURIComponent(sessionId);
  var pages = function (seq) { return api("/api/sessions/" + sid + "/replay", { query: "from_seq=" + seq }); };
  // the event types the timeline marks are the collector's (GET /api/ui/choices)
  Promise.all([api("/api/sessions/" + sid), pages(0), api("/api/ui/choices")])
    .then(function (got) { render(root, got[0], got[1], pages, got[2].timeline_types); })
    .catch(function (err) {
      if (err.status === 401) return; // app.js `api` is taking the visitor to the login page
      status.textContent = "No replay: " + err.message;
      status.classList.add("tm-error");
    });
}

function lastTime(events, fallback) {
  var t = fallback;
  events.forEach(function (e) { if (e.timestamp > t) t = e.timestamp; });
  return t;
}

/**
 * Appends the pages after `first` to the player while they are within AHEAD_MS of the playhead.
 * Returns {at, seek}: `at(t)` follows the playhead; `seek(t, play)` jumps to `t` ms, loading the
 * pages up to it first (rrweb only casts events it holds, and seeks no further than them).
 */
/**
 * After a jump rrweb applies the DOM state at once, as if every node had just been inserted, so
 * CSS animations start from their first frame (a lightbox frozen invisible). Each one is set to
 * where it would be had the recording played through: the time since the last recorded change
 * (insertion or attribute change) of its element or an ancestor, up to `ts`.
 */
export function settleAnimations(replayer, events, ts) {
  var doc = replayer && replayer.iframe && replayer.iframe.contentDocument;
  if (!doc || !doc.getAnimations) return;
  var touched = new Map();
  function walk(node, t) {
    if (!node) return;
    touched.set(node.id, t);
    (node.childNodes || []).forEach(function (child) { walk(child, t); });
  }
  events.forEach(function (e) {
    if (e.timestamp > ts) return;
    if (e.type === FULL_SNAPSHOT) walk(e.data.node, e.timestamp);
    if (e.type !== INCREMENTAL_SNAPSHOT || e.data.source !== MUTATION) return;
    (e.data.adds || []).forEach(function (add) { walk(add.node, e.timestamp); });
    (e.data.attributes || []).forEach(function (attr) { touched.set(attr.id, e.timestamp); });
  });
  var mirror = replayer.getMirror();
  doc.getAnimations().forEach(function (animation) {
    var since = 0;
    for (var node = animation.effect && animation.effect.target; node; node = node.parentNode) {
      since = Math.max(since, touched.get(mirror.getId(node)) || 0);
    }
    if (since) animation.currentTime = Math.max(0, ts - since);
  });
}

function pager(root, player, first, pages) {
  var next = first.next_seq;
  var loadedEnd = lastTime(first.events, 0);
  var held = first.events.slice(); // every event given to the player, for settleAnimations
  var busy = false;
  var at = 0;
  var target = null;
  root.dataset.pages = "1";
  function start() {
    return player.getMetaData().startTime;
  }
  function settle() {
    if (target && (next == null || loadedEnd >= start() + target.t)) {
      var t = target;
      target = null;
      player.goto(t.t, t.play);
      // rrweb rebuilds the moment synchronously; its animations then start in the next frames
      requestAnimationFrame(function () {
        settleAnimations(player.getReplayer(), held, start() + t.t);
        root.dataset.settled = String(t.t);
      });
    }
  }
  function pump() {
    settle();
    if (busy || next == null) return;
    var wanted = Math.max(at, target ? target.t : 0);
    if (loadedEnd - (start() + wanted) > AHEAD_MS) return;
    busy = true;
    pages(next).then(function (page) {
      page.events.forEach(function (e) { player.addEvent(e); held.push(e); });
      loadedEnd = lastTime(page.events, loadedEnd);
      next = page.next_seq;
      root.dataset.pages = String(Number(root.dataset.pages) + 1);
      if (next == null) root.dataset.complete = "1";
      // rrweb takes added events in a microtask: seek only once it holds them all
      setTimeout(function () {
        busy = false;
        pump();
      }, 0);
    }, function (err) {
      busy = false;
      root.dataset.pageError = err.message;
    });
  }
  if (next == null) root.dataset.complete = "1";
  return {
    at: function (t) {
      at = t;
      pump();
    },
    seek: function (t, play) {
      target = { t: t, play: Boolean(play) };
      pump();
    },
  };
}

function render(root, session, first, pages, kinds) {
  var events = first.events || [];
  root.textContent = "";
  if (events.length < 2) {
    root.appendChild(el("p", "tm-status tm-error", "This recording has too few events to play."));
    return;
  }
  var main = el("div", "tm-main");
  var side = el("aside", "tm-side");
  var stage = el("div", "tm-stage");
  var timeline = el("div", "tm-timeline");
  timeline.setAttribute("aria-label", "Session events on the timeline");
  main.appendChild(stage);
  main.appendChild(timeline);
  side.appendChild(facts(session));
  var list = el("ol", "tm-events");
  list.setAttribute("aria-label", "Session events");
  side.appendChild(list);
  root.appendChild(main);
  root.appendChild(side);

  // size the replay to the recorded viewport, scaled into the stage's width
  var meta = events.filter(function (e) { return e.type === META; })[0];
  var width = Math.max(320, Math.min(stage.clientWidth || 960, 1280));
  var ratio = meta && meta.data && meta.data.width ? meta.data.height / meta.data.width : 0.5625;
  var Player = playerClass();
  var player = new Player({
    target: stage,
    props: {
      events: events,
      width: width,
      height: Math.round(width * Math.min(ratio, 1.2)),
      autoPlay: false,
      skipInactive: true,
      speedOption: SPEEDS,
      showController: true,
      mouseTail: false,
    },
  });
  root.trailmarkPlayer = player;

  var info = player.getMetaData();
  var start = info.startTime;
  // the whole recording's extent, not only the first page's, places the markers
  var recorded = first.recording || {};
  var total = Math.max(1, info.totalTime, (recorded.last_ts || 0) - start);
  var more = pager(root, player, first, pages);
  var items = [];
  (session.events || []).forEach(function (e) {
    if (kinds.indexOf(e.type) < 0) return;
    var d = describe(e);
    if (!d) return;
    // rrweb times are the visitor's clock, so compare with the event's client time, not the corrected one
    var offset = Math.min(total, Math.max(0, (e.client_ts || e.ts) - start));
    items.push({ offset: offset, kind: d.kind, label: d.label.trim() });
  });
  items.sort(function (a, b) { return a.offset - b.offset; });

  items.forEach(function (it, i) {
    var jump = function () { more.seek(it.offset, false); highlight(it.offset); };
    var mark = el("button", "tm-marker tm-" + it.kind);
    mark.type = "button";
    mark.title = clock(it.offset) + " " + it.label;
    mark.setAttribute("aria-label", mark.title);
    mark.dataset.offset = String(it.offset);
    mark.dataset.kind = it.kind;
    mark.style.left = (100 * it.offset) / total + "%";
    mark.addEventListener("click", jump);
    timeline.appendChild(mark);

    var li = el("li", "tm-event tm-" + it.kind);
    li.dataset.index = String(i);
    var b = el("button", null);
    b.type = "button";
    b.appendChild(el("time", null, clock(it.offset)));
    b.appendChild(el("span", null, it.label));
    b.addEventListener("click", jump);
    li.appendChild(b);
    list.appendChild(li);
    it.li = li;
  });

  var current = -1;
  function highlight(t) {
    var idx = -1;
    for (var i = 0; i < items.length && items[i].offset <= t; i++) idx = i;
    if (idx === current) return;
    if (current >= 0) items[current].li.classList.remove("tm-current");
    current = idx;
    if (idx >= 0) {
      items[idx].li.classList.add("tm-current");
      var box = list.getBoundingClientRect();
      var r = items[idx].li.getBoundingClientRect();
      if (r.top < box.top || r.bottom > box.bottom) list.scrollTop += r.top - box.top - box.height / 3;
    }
  }
  player.addEventListener("ui-update-current-time", function (e) {
    var t = e && typeof e.payload === "number" ? e.payload : 0;
    highlight(t);
    more.at(t);
  });
  highlight(0);
  more.at(0);
  root.trailmarkSeek = more.seek;
  root.dataset.ready = "1";
}
