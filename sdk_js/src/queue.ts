/** The outbox: unsent events kept in localStorage (shared by tabs) so reloads and offline time lose nothing. */
import type { WireEvent } from "./events";
import type { Kv } from "./storage";

export const MAX_QUEUE = 1000;

/** A queued event, as it will go on the wire. */
export type Ev = WireEvent;

export interface Queue {
  all(): Ev[];
  save(list: Ev[]): void;
  /** Appends one event and returns the queue length. */
  push(ev: Ev): number;
  drop(ids: string[]): void;
}

/** With no kv (cookieless mode, blocked storage) the outbox lives in memory only. */
export function queue(kv: Kv | null): Queue {
  let mem: Ev[] = [];
  const all = (): Ev[] => {
    if (kv) {
      try {
        // only this script writes tm_q, always a JSON array
        return JSON.parse(kv.get("tm_q") || "[]");
      } catch (_) {
        // corrupt JSON or storage revoked mid-page: fall back to the in-memory copy
        kv = null;
      }
    }
    return mem.slice();
  };
  // only the newest MAX_QUEUE events are kept: an endless offline spell must not fill the disk
  const save = (list: Ev[]) => {
    mem = list = list.slice(-MAX_QUEUE);
    try {
      if (kv) kv.set("tm_q", list.length ? JSON.stringify(list) : null);
    } catch (_) {
      // quota exceeded: keep going in memory rather than lose the page's events
      kv = null;
    }
  };
  return {
    all,
    save,
    push: (ev) => {
      const list = all();
      save(list.concat(ev));
      return list.length + 1;
    },
    drop: (ids) => save(all().filter((e) => ids.indexOf(e.id) < 0)),
  };
}
