// The explore mode's Web Worker: its own Go runtime and klp.wasm, so the
// search (core/explore, through klp.explore) runs off the page's thread.
// The page keeps one worker between searches (web/lib/explore.js): the
// WebAssembly instance is made once, at the first message, and later
// searches start at once and run in code V8 has already optimised. A
// search cannot be interrupted: the page cancels by terminating the
// worker. Messages in: {type: "init", warm?} (load now, answer "ready"),
// or a search {src, steps, states, noReduce, memory}. Messages out: {type:
// "ready"}, {type: "warm"} or {type: "cold"} (warmed up, or not: see
// below), {type: "progress", ...stats, ms}, {type: "found", violation,
// ms} (a property's counterexample, as soon as the search finds it),
// {type: "done", result, ms}, {type: "error", message, dead?}. dead says
// the worker's Go runtime stopped (a fatal error such as out of memory):
// the page ends the worker instead of keeping it.
//
// With init's warm, a scenario, the loaded worker warms up while it is
// idle: a few small searches of it (WARM_ROUNDS of WARM_STATES states),
// so that V8 has optimised the search's code before the first real one
// (a fresh instance starts in baseline code, and its first search ran at
// half the speed of the second). A search that arrives meanwhile waits
// for one small round at most, and the rounds stop. A big scenario (over
// WARM_MAX by klp.cost) is not warmed up on: each round runs its
// statements before the region again, and a search would wait for that.
/* global Go */
importScripts("wasm_exec.js");

const WARM_ROUNDS = 12;
const WARM_STATES = 400;
const WARM_MAX = { Tasks: 64, Frames: 4096, Steps: 1000 };

let loaded = null;
let searched = false; // a search came: no more warming up
let go = null;
let fatal = ""; // the Go runtime's "fatal error: …" line, if it printed one

// The Go runtime prints a fatal error through console before it exits:
// keep the line, to say why a search stopped.
for (const k of ["log", "error"]) {
  const orig = console[k].bind(console);
  console[k] = (...a) => {
    const m = /fatal error: .*/.exec(String(a[0] ?? ""));
    if (m && !fatal) fatal = m[0];
    orig(...a);
  };
}

function load() {
  loaded ??= (async () => {
    go = new Go();
    const ready = new Promise((resolve) => self.addEventListener("klp-ready", resolve, { once: true }));
    const resp = await fetch("klp.wasm");
    if (!resp.ok) throw new Error(`klp.wasm: HTTP ${resp.status}`);
    // Streaming compilation lets the browser cache the optimised code, so
    // a later worker does not start in baseline code either.
    const { instance } = WebAssembly.instantiateStreaming
      ? await WebAssembly.instantiateStreaming(resp, go.importObject)
      : await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
    go.run(instance);
    await ready;
  })().catch((err) => {
    loaded = null; // a later message tries again (the network may be back)
    throw err;
  });
  return loaded;
}

const failed = (r) => r instanceof Error || (r && r.klpError === true);

async function warm(src) {
  const c = self.klp.cost(src);
  if (failed(c) || Object.entries(WARM_MAX).some(([k, max]) => c[k] > max)) {
    self.postMessage({ type: "cold" });
    return;
  }
  for (let i = 0; i < WARM_ROUNDS; i++) {
    await new Promise((r) => setTimeout(r, 0)); // a search's message goes first
    if (searched) return;
    if (failed(self.klp.explore(src, 0, WARM_STATES, false))) {
      self.postMessage({ type: "cold" }); // not a scenario to warm up on
      return;
    }
  }
  if (!searched) self.postMessage({ type: "warm" });
}

self.onmessage = async (e) => {
  const m = e.data || {};
  if (m.type !== "init") searched = true; // before any wait: the warm-up sees it
  try {
    await load();
    if (m.type === "init") {
      self.postMessage({ type: "ready" });
      if (m.warm && !searched) warm(String(m.warm));
      return;
    }
    const { src, steps = 0, states = 0, noReduce = false, memory = 0 } = m;
    const t0 = performance.now();
    const progress = (p) => {
      self.postMessage({ type: "progress", ...p, ms: performance.now() - t0 });
      return true;
    };
    const found = (violation) => self.postMessage({ type: "found", violation, ms: performance.now() - t0 });
    const r = self.klp.explore(String(src), steps, states, noReduce, progress, found, memory);
    if (go.exited || r === undefined) throw new Error(stopped());
    if (failed(r)) throw new Error(r.message);
    self.postMessage({ type: "done", result: r, ms: performance.now() - t0 });
  } catch (err) {
    const dead = !!(go && go.exited);
    const message = dead ? stopped() : String((err && err.message) || err);
    self.postMessage({ type: "error", message, dead });
    if (dead) self.close();
  }
};

function stopped() {
  return `the search's WebAssembly runtime stopped (${fatal || "the Go program exited"}); lower the region's bounds (steps=, memory=) and explore again`;
}
