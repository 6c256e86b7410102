// First paint before the WebAssembly. cmd/build runs each widget's
// starting scenario natively and writes what the bridge would return
// into the page (<script type="application/json" class="klp-first">, see
// cmd/build/firstpaint.go). FrozenSession serves that data to the same
// panels the live session feeds, so the page is drawn by its own code
// from its first bytes; it runs nothing: exec says the simulator is
// still loading.

import { unpack } from "./session.js";

/**
 * Resolves after the next frame has been produced. The widget starts the
 * wasm only then: its download and compile cost the main thread over
 * 100 ms on the 2-core benchmark machine (the response body is read and
 * handed to V8 there), which before the first frame delayed the frame by
 * as much; the page's wasm is not preloaded for the same reason.
 */
export function afterFrame() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve();
      ch.port2.postMessage(0);
    });
    // a hidden tab produces no frames: do not wait for one there
    setTimeout(resolve, 250);
  });
}

/** The first-paint data of a widget element, or null. */
export function firstPaintData(el) {
  const s = el.querySelector(":scope > script.klp-first");
  if (!s) return null;
  try {
    const d = JSON.parse(s.textContent);
    d.View = unpack(d.View);
    return d;
  } catch {
    return null; // a broken block only costs the early picture
  }
}

const since = (list, from, limit) => {
  const l = list.filter((x) => x.Seq >= from);
  return limit ? l.slice(-limit) : l;
};

export class FrozenSession extends EventTarget {
  constructor(data) {
    super();
    this.data = data;
    this.id = 0;
    this.frozen = true;
    this.playing = false;
    this.hz = data.View.HZ;
    this.startOutput = data.Start || [];
    // Input waits for the live session: the console's queue waits while
    // a session is running and looks again when it is idle, and this one
    // is idle only when the widget has replaced it (destroy), so a line
    // typed during loading runs on the live session.
    this.running = true;
    this.idle = new Promise((resolve) => (this.resolveIdle = resolve));
  }

  view() { return this.data.View; }
  events(from = 0, limit = 0) { return since(this.data.Events || [], from, limit); }
  log(from = 0, limit = 0) { return since(this.data.Log || [], from, limit); }
  logRange(from, count) { return (this.data.Log || []).filter((l) => l.Seq >= from && l.Seq < from + count); }
  goals() { return this.data.Goals || { goals: [], failures: 0 }; }
  ls(path) { return (this.data.Ls || {})[path] || []; }
  names() { return { funcs: [], pids: [], modules: [], patches: [] }; }
  history() { return { pos: 0, count: 1, labels: ["start"] }; }
  source() { return this.data.Source || ""; }
  exec() { return { output: [], error: "the simulator is still loading" }; }
  execSliced() { return Promise.resolve(this.exec()); }
  complete() { return { insert: "", matches: [] }; }
  execAll() { return this.exec(); }
  whenIdle() { return this.idle; }
  subscribe() { return () => {}; }
  destroy() {
    this.running = false;
    this.resolveIdle();
  }
  pause() {}
  play() {}
  togglePlay() {}
  seek() {}
  undo() {}
  redo() {}
  fork() {}
  step() {}
}
