// The explore mode's Web Worker: its own Go runtime and klp.wasm, so the
// search (core/explore, through klp.explore) runs off the page's thread.
// One search per worker; the page cancels by terminating the worker.
// Messages out: {type: "progress", ...stats, ms}, {type: "done", result,
// ms}, {type: "error", message}.
/* global Go */
importScripts("wasm_exec.js");

self.onmessage = async (e) => {
  const { src, steps = 0, states = 0, noReduce = false } = e.data || {};
  try {
    const go = new Go();
    const ready = new Promise((resolve) => self.addEventListener("klp-ready", resolve, { once: true }));
    const resp = await fetch("klp.wasm");
    if (!resp.ok) throw new Error(`klp.wasm: HTTP ${resp.status}`);
    // Streaming compilation lets the browser cache the optimised code, so
    // a later search does not start in baseline code (V8's tier-up took
    // about 0.3 s of the first search on bench.klp).
    const { instance } = WebAssembly.instantiateStreaming
      ? await WebAssembly.instantiateStreaming(resp, go.importObject)
      : await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
    go.run(instance);
    await ready;
    const t0 = performance.now();
    const progress = (p) => {
      self.postMessage({ type: "progress", ...p, ms: performance.now() - t0 });
      return true;
    };
    const r = self.klp.explore(String(src), steps, states, noReduce, progress);
    if (r instanceof Error || (r && r.klpError === true)) throw new Error(r.message);
    self.postMessage({ type: "done", result: r, ms: performance.now() - t0 });
  } catch (err) {
    self.postMessage({ type: "error", message: String((err && err.message) || err) });
  }
};
