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

import { applyDelta } from "./viewdelta.js";

export const SPEEDS = [0.25, 1, 4, 16];
const PLAY_INTERVAL_MS = 100;
// The kernel log lines a play tick sends the console; a note counts the
// rest (a retry over thousands of blocked tasks prints a line for each;
// the log panel has them all).
export const PLAY_LOG_LINES = 50;
// While time plays, re-renders are coalesced (at most one per play tick)
// and spaced so that they take at most this share of the time: a
// machine with thousands of tasks takes tens of milliseconds to build,
// send and show, and rendering it on every tick would leave the page no
// time to draw frames or answer input.
const PLAY_RENDER_SHARE = 0.5;
// The longest the shown state may lag while playing, whatever a render
// costs.
const MAX_RENDER_GAP_MS = 250;
// How long one slice of a sliced load (Session.open) should take: well
// under the 100 ms a page may freeze, with frames drawn in between.
const SLICE_MS = 30;
// What a control gets while a sliced input (execSliced) still runs.
const BUSY = "the simulator is still running the console's last command; try again when it is done";

export class Session extends EventTarget {
  /**
   * @param api the klp facade; @param text scenario source (may throw);
   * @param id an instance already made (Session.open), then text is unused
   */
  constructor(api, text, id = 0) {
    super();
    this.api = api;
    this.id = id || api.create(text);
    this.startOutput = api.startOutput(this.id);
    this.api.checkpoint(this.id, "start");
    this.speed = 1;
    this.timer = 0;
    this._view = null;
    this.hz = 0; // HZ of the last view
    this.renderMs = 0; // what the last "change" took to handle
    this.renderAt = 0; // when it started (performance.now())
    this.changeQueued = 0; // a coalesced play change is scheduled (its token)
  }

  /** Marks a sliced run (execSliced, branch) as going on, or over. */
  setRunning(on) {
    if (on && !this.running) this.idle = new Promise((resolve) => (this.resolveIdle = resolve));
    if (!on && this.running) this.resolveIdle();
    this.running = on;
  }

  /** Resolves when no sliced run is going on. */
  whenIdle() {
    return this.running ? this.idle : Promise.resolve();
  }

  /**
   * Makes a Session from text a slice at a time (klp.load / loadRun), so a
   * big scenario — a share link of 100,000 tasks, hours of simulated time —
   * never holds the page for long: between slices the page draws and
   * answers input. Each slice aims at SLICE_MS; onProgress({started,
   * total, slices}) follows each one. Aborting signal drops the load, and
   * nothing of it is kept. Rejects with the scenario's error (line:column).
   */
  static async open(api, text, { onProgress, signal } = {}) {
    const lid = api.load(text);
    let units = 1;
    let slices = 0;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const t0 = performance.now();
        const r = api.loadRun(lid, units);
        const ms = performance.now() - t0;
        slices++;
        if (r.done) return new Session(api, null, r.id);
        if (ms < SLICE_MS / 2) units *= 2;
        else if (ms > SLICE_MS) units = Math.max(1, Math.floor(units / 2));
        onProgress?.({ started: r.started, total: r.total, slices });
        // a macrotask, not a frame: a hidden tab has no frames but must
        // finish loading too
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (e) {
      api.loadCancel(lid); // (a failed load is already gone)
      throw e;
    }
  }

  destroy() {
    this.pause();
    if (this.id) this.api.destroy(this.id);
    this.id = 0;
  }

  /** The current sim.View (parsed once per change). */
  view() {
    if (!this._view) {
      // only the tasks that changed since the last view cross the bridge
      this._view = this._last = applyDelta(this._last, JSON.parse(this.api.viewDelta(this.id)));
      this.hz = this._view.HZ;
    }
    return this._view;
  }

  /**
   * Tells listeners the state changed. While playing (coalesce), a tick's
   * change goes out at once if the last render was long enough ago, else
   * one change is scheduled for then; any other change goes out at once
   * and supersedes a scheduled one.
   */
  changed(rewind, coalesce = false) {
    if (coalesce) {
      if (this.changeQueued) return;
      const token = (this.changeQueued = ++changeTokens);
      const wait = this.renderAt + Math.min(MAX_RENDER_GAP_MS, this.renderMs / PLAY_RENDER_SHARE) - performance.now();
      // Rendered in this task (or the timer's), not in an animation frame
      // callback: from inside a frame callback the DOM changes wait for the
      // next frame, a whole frame later than from a task.
      const fire = () => {
        if (this.changeQueued !== token || !this.id) return;
        this.emit(false);
      };
      if (wait > 1) setTimeout(fire, wait);
      else fire();
      return;
    }
    this.emit(rewind);
  }

  emit(rewind) {
    this.changeQueued = 0;
    const t = performance.now();
    this.dispatchEvent(new CustomEvent("change", { detail: { rewind } }));
    this.renderAt = t;
    // A typical render, not the last one: one slow render (the first, in
    // V8's baseline tier, or a sweep that switched every task) must not
    // hold the next ones back for ten times its length.
    const ms = performance.now() - t;
    this.renderMs = this.renderMs ? Math.min(ms, this.renderMs * 0.7 + ms * 0.3) : Math.min(ms, MAX_RENDER_GAP_MS * PLAY_RENDER_SHARE);
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

  /** What Tab does at caret (an index into text): {insert, matches}. */
  complete(text, caret) {
    return this.api.complete(this.id, text, caret);
  }

  /** The pid the spawn form offers. */
  nextPid() {
    return this.api.nextPid(this.id);
  }

  /** The source a share link carries (runs of ticks merged). */
  shareSource() {
    return this.api.compactSource(this.id);
  }

  log(since, limit) {
    return JSON.parse(this.api.log(this.id, since, limit));
  }

  /** The log lines with Seq in [from, from+count) still in the ring. */
  logRange(from, count) {
    return JSON.parse(this.api.logRange(this.id, from, count));
  }

  events(since, limit) {
    return JSON.parse(this.api.events(this.id, since, limit));
  }

  /**
   * Calls fn(events, {rewind}) after every change with the simulator's
   * events (sim.Event) that are new since the last call; when the timeline
   * goes back, fn gets [] and rewind: true, and counting restarts there.
   * Returns a function that unsubscribes.
   */
  subscribe(fn) {
    const count = () => {
      const last = this.events(0, 1);
      return last.length ? last[0].Seq + 1 : 0;
    };
    let next = count();
    const on = (e) => {
      if (e.detail.rewind) {
        next = count();
        fn([], { rewind: true });
        return;
      }
      const evs = this.events(next);
      if (evs.length === 0) return;
      next = evs[evs.length - 1].Seq + 1;
      fn(evs, { rewind: false });
    };
    this.addEventListener("change", on);
    return () => this.removeEventListener("change", on);
  }

  /**
   * Runs one line (or a block) of the scenario language.
   * opts.from: "console" | "ui" | "play"; opts.checkpoint (default true).
   */
  exec(line, opts = {}) {
    const from = opts.from || "ui";
    if (this.running) return { output: [], error: BUSY };
    if (from !== "play") this.pause();
    // The core checkpoints when something was applied (a failed statement
    // is not recorded, but earlier statements of a block may have run).
    const res = this.api.exec(this.id, line, opts.checkpoint !== false, opts.maxLog || 0);
    this._view = null;
    this.dispatchEvent(new CustomEvent("exec", { detail: { line, output: res.output, error: res.error, from } }));
    this.changed(false, from === "play");
    return res;
  }

  /**
   * exec(), a slice at a time (klp.execStart / execRun), for input that
   * may take long — `spawn-random 100000`, `sleep 3600` with thousands of
   * blocked tasks: between slices the page draws (the view shows the work
   * so far) and answers input. Until it is done this.running is set, and
   * exec() from any other control answers BUSY instead of interleaving.
   * Resolves to exec's result.
   */
  async execSliced(line, opts = {}) {
    const from = opts.from || "ui";
    if (this.running) return { output: [], error: BUSY };
    this.pause();
    const start = this.api.execStart(this.id, line, opts.checkpoint !== false);
    let res = start;
    if (start.run) {
      // Slices run back to back for up to SLICE_MS, so that a command of
      // ordinary size finishes at once, as exec() would; only a long one
      // yields to the page, and only then do other controls wait.
      let units = 1;
      let box = performance.now();
      try {
        for (;;) {
          const t0 = performance.now();
          res = this.api.execRun(start.run, units);
          if (res.done !== false) break;
          const now = performance.now();
          if (now - t0 < SLICE_MS / 4) units *= 2;
          else if (now - t0 > SLICE_MS) units = Math.max(1, Math.floor(units / 2));
          if (now - box < SLICE_MS) continue;
          this.setRunning(true);
          this._view = null;
          this.changed(false, true); // coalesced: the work so far
          await new Promise((resolve) => setTimeout(resolve, 0));
          box = performance.now();
        }
      } finally {
        this.setRunning(false);
      }
    }
    this._view = null;
    this.dispatchEvent(new CustomEvent("exec", { detail: { line, output: res.output, error: res.error, from } }));
    this.changed(false);
    return res;
  }

  /**
   * Runs lines as one action: all of them, or none (the core's
   * Timeline.ExecAll): if one fails, the machine goes back to the
   * checkpoint it was at and the console keeps what ran and says so, so a
   * form whose second step fails leaves nothing of its first behind. One
   * checkpoint records the whole action. Returns the failing result, or
   * the last one.
   */
  execAll(lines, opts = {}) {
    if (this.running) return { output: [], error: BUSY };
    this.pause();
    const from = opts.from || "ui";
    const { results, note } = this.api.execAll(this.id, lines);
    this._view = null;
    results.forEach((res, i) => {
      this.dispatchEvent(new CustomEvent("exec", { detail: { line: lines[i], output: res.output, error: res.error, from } }));
    });
    if (note) {
      this.dispatchEvent(new CustomEvent("exec", {
        detail: { line: "", output: [{ kind: "note", text: note }], error: null, from: "timeline" },
      }));
    }
    this.changed(Boolean(note));
    return results[results.length - 1] || null;
  }

  /**
   * A new session whose timeline is this one's replayed from a changed
   * start (edit(text) gives it, e.g. another kernel profile): every
   * checkpoint's steps run again on the new machine and are checkpointed
   * with the same labels, and the position is the same step. The
   * timeline is linear (a checkpoint drops the steps after it), so each
   * checkpoint's source extends the one before. A step the new start
   * refuses ends the replay there: {session, steps, failed: {index,
   * label, error}|null} (a Promise: the replay runs a slice at a time). This
   * session is left at its own position.
   */
  async branch(edit) {
    this.pause();
    const h = this.history();
    const srcs = [];
    for (let i = 0; i < h.count; i++) {
      this.api.seek(this.id, i);
      srcs.push(this.api.source(this.id));
    }
    this.api.seek(this.id, h.pos);
    this._view = null;
    // Sliced, like a share link, so a big session is replayed without
    // freezing the page; meanwhile this session's controls answer busy
    // (what they did would be lost with it).
    this.setRunning(true);
    try {
      return await this.replay(edit(srcs[0]), srcs, h);
    } finally {
      this.setRunning(false);
    }
  }

  /** branch()'s replay: the new start, then each checkpoint's steps. */
  async replay(start, srcs, h) {
    const next = await Session.open(this.api, start);
    let failed = null;
    let i = 1;
    for (; i < srcs.length; i++) {
      const delta = srcs[i].startsWith(srcs[i - 1]) ? srcs[i].slice(srcs[i - 1].length) : null;
      const res = delta === null ? { error: "the timeline is not linear here" } : delta.trim() ? await next.execSliced(delta, { checkpoint: false }) : { output: [] };
      if (res.error) {
        failed = { index: i, label: h.labels[i] || "", error: res.error };
        break;
      }
      this.api.checkpoint(next.id, h.labels[i] || "");
    }
    // at the same step, or the last one the new start allowed (a failed
    // step may have run part of its statements)
    this.api.seek(next.id, Math.min(h.pos, i - 1));
    return { session: next, steps: i, failed };
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
    this.changed(true);
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
    this.changed(false);
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
      // HZ of the last view: building a view only for it would cost as
      // much as a render
      const hz = this.hz || this.view().HZ || 250;
      const n = Math.max(1, Math.round((hz * this.speed * PLAY_INTERVAL_MS) / 1000));
      try {
        this.exec(`tick ${n}`, { from: "play", checkpoint: false, maxLog: PLAY_LOG_LINES });
      } catch (e) {
        this.pause();
        throw e;
      }
    }, PLAY_INTERVAL_MS);
    this.changed(false);
  }

  pause() {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = 0;
    this.api.checkpoint(this.id, "play");
    this.changed(false);
  }

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }
}

let changeTokens = 0;

/**
 * What went wrong in an exec result, or "": a scenario error, or what a
 * shell command printed on stderr (a failing insmod or echo is not a
 * scenario error: it is recorded and prints the same on replay).
 */
export function failure(res) {
  if (!res) return "";
  if (res.error) return res.error;
  return (res.output || []).filter((o) => o.kind === "stderr").map((o) => o.text).join("\n");
}

/**
 * unpack turns klp.viewPacked's JSON (each task's Stack as indexes into
 * a shared Frames table) into the sim.View klp.view gives: tasks share
 * the frame objects, and JSON.stringify of the result is the same text.
 */
export function unpack(v) {
  const frames = v.Frames || [];
  delete v.Frames;
  for (const t of v.Tasks || []) {
    if (t.Stack) t.Stack = t.Stack.map((i) => frames[i]);
  }
  return v;
}
