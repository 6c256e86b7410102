// Session: one simulated machine in the wasm, with its timeline. Every
// change goes through exec() with a line of the scenario language (so the
// console shows it and Source() records it); after each action a
// checkpoint is stored, so the timeline can go back and fork.
//
// Events (on the Session, an EventTarget):
//   "exec"   detail {line, output, error, from}  — for the console
//   "change" detail {rewind}                     — re-render; rewind means
//            time went backwards or the machine was replaced, so views that
//            keep incremental state (log, events) must reload.

export const SPEEDS = [0.25, 1, 4, 16];
const PLAY_INTERVAL_MS = 100;

export class Session extends EventTarget {
  /** @param api the klp facade; @param text scenario source (may throw) */
  constructor(api, text) {
    super();
    this.api = api;
    this.id = api.create(text);
    this.startOutput = api.startOutput(this.id);
    this.api.checkpoint(this.id, "start");
    this.speed = 1;
    this.timer = 0;
    this._view = null;
  }

  destroy() {
    this.pause();
    if (this.id) this.api.destroy(this.id);
    this.id = 0;
  }

  /** The current sim.View (parsed once per change). */
  view() {
    if (!this._view) this._view = JSON.parse(this.api.view(this.id));
    return this._view;
  }

  source() {
    return this.api.source(this.id);
  }

  history() {
    return this.api.history(this.id);
  }

  goals() {
    return JSON.parse(this.api.goals(this.id));
  }

  names() {
    return this.api.names(this.id);
  }

  ls(path) {
    return this.api.ls(this.id, path);
  }

  log(since, limit) {
    return JSON.parse(this.api.log(this.id, since, limit));
  }

  events(since, limit) {
    return JSON.parse(this.api.events(this.id, since, limit));
  }

  /**
   * Runs one line (or a block) of the scenario language.
   * opts.from: "console" | "ui" | "play"; opts.checkpoint (default true).
   */
  exec(line, opts = {}) {
    const from = opts.from || "ui";
    if (from !== "play") this.pause();
    const keep = opts.checkpoint !== false;
    const before = keep ? this.api.source(this.id) : "";
    const res = this.api.exec(this.id, line);
    // Checkpoint when something was applied. A failed statement is not
    // recorded, but earlier statements of a block may have run; the
    // recorded source tells either way.
    if (keep && this.api.source(this.id) !== before) {
      this.api.checkpoint(this.id, firstLine(line));
    }
    this._view = null;
    this.dispatchEvent(new CustomEvent("exec", { detail: { line, output: res.output, error: res.error, from } }));
    this.dispatchEvent(new CustomEvent("change", { detail: { rewind: false } }));
    return res;
  }

  // --- timeline ---------------------------------------------------------

  seek(index) {
    this.pause();
    const h = this.history();
    if (index < 0 || index >= h.count || index === h.pos) return;
    this.api.seek(this.id, index);
    this._view = null;
    this.dispatchEvent(new CustomEvent("exec", {
      detail: { line: "", output: [{ kind: "note", text: `timeline: back at step ${index}: ${h.labels[index] || "start"}` }], error: null, from: "timeline" },
    }));
    this.dispatchEvent(new CustomEvent("change", { detail: { rewind: true } }));
  }

  undo() {
    this.seek(this.history().pos - 1);
  }

  redo() {
    this.seek(this.history().pos + 1);
  }

  /** Drops the checkpoints after the current one. */
  fork() {
    this.pause();
    this.api.fork(this.id);
    this.dispatchEvent(new CustomEvent("change", { detail: { rewind: false } }));
  }

  // --- simulated time ----------------------------------------------------

  step(jiffies = 1) {
    return this.exec(`tick ${jiffies}`);
  }

  get playing() {
    return this.timer !== 0;
  }

  /**
   * Advances simulated time by `speed` simulated seconds per real second,
   * in ticks every 100 ms of real time. The ticks are not checkpointed one
   * by one; pausing stores one checkpoint.
   */
  play() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const hz = this.view().HZ || 250;
      const n = Math.max(1, Math.round((hz * this.speed * PLAY_INTERVAL_MS) / 1000));
      try {
        this.exec(`tick ${n}`, { from: "play", checkpoint: false });
      } catch (e) {
        this.pause();
        throw e;
      }
    }, PLAY_INTERVAL_MS);
    this.dispatchEvent(new CustomEvent("change", { detail: { rewind: false } }));
  }

  pause() {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = 0;
    this.api.checkpoint(this.id, "play");
    this.dispatchEvent(new CustomEvent("change", { detail: { rewind: false } }));
  }

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }
}

function firstLine(s) {
  const l = s.trim().split("\n");
  return l.length > 1 ? `${l[0]} …` : l[0];
}

/**
 * Merges runs of "tick N" lines into one, so a share link of a session
 * that was played for a while stays short. tick N then tick M advances
 * exactly as tick N+M does (time only moves through the same loop).
 */
export function compactSource(src) {
  const out = [];
  let acc = 0;
  const MAX = 1000000; // stay under the core's per-statement bound
  const flush = () => {
    if (acc > 0) out.push(`tick ${acc}`);
    acc = 0;
  };
  for (const line of src.split("\n")) {
    const m = /^tick(?: (\d+))?$/.exec(line.trim());
    if (m) {
      const n = m[1] === undefined ? 1 : Number(m[1]);
      if (acc + n > MAX) flush();
      acc += n;
      continue;
    }
    flush();
    out.push(line);
  }
  flush();
  return out.join("\n");
}
