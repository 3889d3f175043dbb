/** Visitor identity: anonymous id, rolling 30-minute session shared by tabs, known user id. */
import type { Kv } from "./storage";
import { uuid } from "./util";

export const SESSION_MS = 30 * 60 * 1000;

export interface SessionState {
  id: string;
  t: number;
}

/** Keeps the session while activity continues within 30 minutes, otherwise starts a new one. */
export function rollSession(s: SessionState | null, now: number, make: () => string): SessionState {
  return s && now - s.t < SESSION_MS ? { id: s.id, t: Math.max(now, s.t) } : { id: make(), t: now };
}

export function parseSession(raw: string | null): SessionState | null {
  const m = raw && raw.split("|");
  return m && m.length == 2 && +m[1] ? { id: m[0], t: +m[1] } : null;
}

export interface Identity {
  uid: string | null;
  anon(): string | undefined;
  /** The current session id, renewed by this call: every event counts as activity. */
  session(now: number): string | undefined;
  identify(uid: string): void;
  reset(): void;
}

/** Identity held in `kv`; with no kv (cookieless mode) only the user id lives, in memory. */
export function identity(kv: Kv | null): Identity {
  const me: Identity = {
    uid: kv && kv.get("tm_uid"),
    anon: () => {
      let a = kv ? kv.get("tm_aid") : undefined;
      if (kv && !a) kv.set("tm_aid", (a = uuid()));
      return a || undefined;
    },
    session: (now) => {
      if (!kv) return undefined;
      const s = rollSession(parseSession(kv.get("tm_sid")), now, uuid);
      kv.set("tm_sid", s.id + "|" + s.t);
      return s.id;
    },
    identify: (uid) => {
      me.uid = uid;
      if (kv) kv.set("tm_uid", uid);
    },
    reset: () => {
      me.uid = null;
      if (kv) for (const k of ["tm_uid", "tm_aid", "tm_sid"]) kv.set(k, null);
    },
  };
  return me;
}
