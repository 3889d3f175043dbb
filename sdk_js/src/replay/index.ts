/** trailmark-replay.js: records the page with rrweb and uploads chunks; loaded lazily by trailmark.js. */
import { record } from "@rrweb/record";
import { EventType, type eventWithTime, IncrementalSource } from "@rrweb/types";
import type { Host } from "../core";
import { safe } from "../util";
import { CHUNK_BYTES, CHUNK_MS, chunkBody, guarded, loadPending, nextSeq, savePending, type Who } from "./chunks";
import { fixEvent } from "./css";
import { recordOptions } from "./options";
import { serialize } from "./scrub";
import { uploader } from "./upload";

/** The incremental changes that are the visitor acting: only these may keep a session alive. */
const ACTIVE: IncrementalSource[] = [
  IncrementalSource.MouseMove,
  IncrementalSource.MouseInteraction,
  IncrementalSource.Scroll,
  IncrementalSource.Input,
  IncrementalSource.TouchMove,
  IncrementalSource.MediaInteraction,
  IncrementalSource.Drag,
];

function start(w: Host): void {
  const core = w.trailmark;
  if (!core || !core._ctx || core._replay) return; // no core, or already recording
  const ctx = core._ctx();
  if (!ctx || ctx.off || !ctx.session_id) return;
  core._replay = true;

  const local = guarded(() => w.localStorage);
  const tab = guarded(() => w.sessionStorage);
  let who: Who = { key: ctx.key, session_id: ctx.session_id, anon_id: ctx.anon_id };
  let buf: string[] = [];
  let bytes = 0;
  let active = false;
  let timer: ReturnType<typeof setTimeout> | 0 = 0;

  const up = uploader(ctx.base + "/v1/replay", (q) => savePending(tab, q));
  // chunks a previous page of this tab left unconfirmed go first; others belong to an older session
  for (const c of loadPending(tab)) if (c.body.indexOf('"session_id":' + JSON.stringify(who.session_id)) > 0) up.add(c);

  const flush = (): void => {
    if (timer) clearTimeout(timer), (timer = 0);
    if (!buf.length) return;
    // asking the core renews its session, so only visitor activity may keep a session alive
    if (active) {
      const now = core._ctx!();
      if (!now || now.off) return stop();
      if (now.session_id && now.session_id != who.session_id) {
        who = { key: now.key, session_id: now.session_id, anon_id: now.anon_id };
        // the new session needs a full snapshot of its own to be playable
        setTimeout(safe(() => record.takeFullSnapshot(true)), 0);
      }
    }
    // seq is taken when a chunk is cut, so chunks keep the recording's order across retries and page loads
    const seq = nextSeq(local, who.session_id);
    up.add({ seq, body: chunkBody(who, seq, buf) });
    buf = [];
    bytes = 0;
    active = false;
  };
  const stopRecording = record({
    ...recordOptions(ctx.ds),
    emit: safe((ev: eventWithTime) => {
      // the node ids of this event are in the mirror while emit runs: rrweb emits synchronously
      safe(fixEvent)(ev, (id) => record.mirror.getNode(id));
      const s = serialize(ev);
      buf.push(s);
      bytes += s.length;
      if (ev.type == EventType.IncrementalSnapshot && ACTIVE.indexOf(ev.data.source) >= 0) active = true;
      if (bytes >= CHUNK_BYTES) flush();
      else if (!timer) timer = setTimeout(safe(flush), CHUNK_MS);
    }),
  });

  function stop(): undefined {
    if (stopRecording) stopRecording();
    buf = [];
    savePending(tab, []);
    core!._replay = false;
    return undefined;
  }

  const hide = safe(() => {
    flush();
    savePending(tab, up.unload());
  });
  w.addEventListener("pagehide", hide);
  document.addEventListener("visibilitychange", () => document.visibilityState == "hidden" && hide());
}

safe(start)(window as never);
