// The page's Explore button: runs every interleaving of the scenario's
// explore region in a Web Worker (web/explore-worker.js, its own
// WebAssembly instance), shows progress with states per second, can be
// cancelled, and lists each broken property's shortest counterexample as a
// share link that opens it in the playground. No simulation here: the
// search is core/explore behind klp.explore.
import { linkFor } from "./share.js";

const workerURL = new URL("../explore-worker.js", import.meta.url);

// One worker is kept between searches, loaded and idle: a second search
// starts at once, in code V8 has optimised during the first; hovering or
// focusing the Explore button loads one ahead of the click (prewarm), and
// so does opening a scenario that has an explore region, once the page is
// idle (prewarmWhenIdle): the first click then waits for the search alone.
// An idle worker holds the memory its last search grew (WebAssembly
// memory never shrinks), so it is let go after IDLE_MS without a search.
// A worker loaded for a scenario with a region warms up on it while idle
// (web/explore-worker.js). The button's data-worker says how the kept
// worker is: loading, ready, warm, or cold (loaded for a scenario too big
// to warm up on).
const IDLE_MS = 120000;
let spare = null; // {w, timer}
let shown = null; // the Explore button

/**
 * regions asks the core (klp.cost) how many explore regions src has: -1
 * when it cannot say (src does not parse, or klp.wasm is not loaded yet),
 * and then a search lets the worker report what is wrong.
 */
function regions(src) {
  try {
    return globalThis.klp?.cost(src).Regions ?? -1;
  } catch {
    return -1;
  }
}

function mark(state) {
  if (!shown) return;
  if (state) shown.dataset.worker = state;
  else delete shown.dataset.worker;
}

function takeWorker() {
  if (spare) {
    const { w, timer } = spare;
    clearTimeout(timer);
    spare = null;
    mark(null);
    return w;
  }
  return new Worker(workerURL);
}

function keepWorker(w, state = "ready") {
  if (spare) {
    w.terminate(); // one spare is enough
    return;
  }
  w.onmessage = w.onerror = null;
  spare = { w, timer: setTimeout(() => { if (spare?.w === w) { spare = null; mark(null); w.terminate(); } }, IDLE_MS) };
  mark(state);
}

/**
 * prewarm loads a worker and its klp.wasm ahead of a search, and warms
 * it up on src if src has an explore region.
 */
export function prewarm(src = "") {
  if (spare) return;
  const w = new Worker(workerURL);
  keepWorker(w, "loading");
  w.onmessage = (e) => {
    const t = e.data?.type;
    if ((t === "ready" || t === "warm" || t === "cold") && spare?.w === w) mark(t);
  };
  w.onerror = () => { if (spare?.w === w) { clearTimeout(spare.timer); spare = null; mark(null); } w.terminate(); };
  w.postMessage({ type: "init", warm: regions(src) > 0 ? src : "" });
}

/**
 * prewarmWhenIdle loads a worker once the page is idle, if src has an
 * explore region: such a scenario (a counterexample's link, an example
 * about a race) is likely to be explored next.
 */
export function prewarmWhenIdle(src) {
  if (spare || regions(src) <= 0) return;
  const idle = globalThis.requestIdleCallback ?? ((f) => setTimeout(f, 200));
  idle(() => { if (!spare) prewarm(src); }, { timeout: 5000 });
}

/**
 * searchMemory is the most, in MB, a search may hold of states at once on
 * this device: an eighth of its memory where the browser tells it
 * (navigator.deviceMemory, in GB), from 128 MB up to the bridge's own
 * limit of 1 GB; 0 (that limit) where it does not.
 */
export function searchMemory(gb = globalThis.navigator?.deviceMemory) {
  return gb > 0 ? Math.max(128, Math.min(1024, Math.round(gb * 128))) : 0;
}

/**
 * explore starts a search of src. It returns {done, cancel}: done is a
 * promise of the result (rejected with the scenario's error), cancel ends
 * the worker at once. onFound gets each property's counterexample while
 * the search goes on.
 */
export function explore(src, { onProgress, onFound, steps = 0, states = 0, noReduce = false } = {}) {
  const w = takeWorker();
  let settle;
  let over = false;
  const done = new Promise((resolve, reject) => {
    settle = { resolve, reject };
    w.onmessage = (e) => {
      const m = e.data;
      if (over) return;
      if (m.type === "progress") onProgress?.(m);
      else if (m.type === "found") onFound?.(m);
      else if (m.type === "done") {
        over = true;
        keepWorker(w);
        resolve({ ...m.result, ms: m.ms });
      } else if (m.type === "error") {
        over = true;
        if (m.dead) w.terminate(); // its Go runtime stopped
        else keepWorker(w); // the scenario's error: the worker is fine
        reject(new Error(m.message));
      }
    };
    w.onerror = (e) => {
      over = true;
      w.terminate();
      reject(new Error(e.message || "the explore worker failed"));
    };
  });
  w.postMessage({ src, steps, states, noReduce, memory: searchMemory() });
  return {
    done,
    cancel() {
      if (over) return;
      over = true;
      w.terminate(); // a search cannot be interrupted
      settle.resolve(null);
    },
  };
}

function el(tag, props = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") n.className = v;
    else if (k in n) n[k] = v;
    else n.setAttribute(k, v);
  }
  for (const k of kids) n.append(k);
  return n;
}

const rate = (n, ms) => Math.round((n * 1000) / Math.max(ms, 1)).toLocaleString("en");

/**
 * violationItem is a counterexample's list item, made at once: its link
 * gets its address when the share link is made.
 */
function violationItem(v, note = "") {
  const link = el("a", { target: "_blank", rel: "noopener" }, "open it in the playground");
  linkFor(v.scenario, location.href).then((href) => { link.href = href; });
  return el("li", { class: "explore-violation" },
    el("strong", {}, `${v.property} broken`), `: ${v.detail} `,
    el("span", {}, `Shortest counterexample, ${v.steps.length} steps: ${v.steps.join(" → ")}. `), link, note);
}

/**
 * mountExplore wires the Explore button: getSource gives the scenario
 * text; say reports to the page's status line; host is the playground,
 * whose klp-load event says a scenario was opened.
 */
export function mountExplore(button, getSource, say, host) {
  shown = button;
  // the pointer on its way to the button, or the keyboard on it: load now
  button.addEventListener("pointerenter", () => prewarm(getSource()));
  button.addEventListener("focus", () => prewarm(getSource()));
  host?.addEventListener("klp-load", () => prewarmWhenIdle(getSource()));
  const status = el("p", { class: "explore-status", role: "status", "aria-live": "polite" });
  const results = el("ol", { class: "explore-results" });
  const cancel = el("button", { type: "button", id: "explore-cancel" }, "Cancel");
  const close = el("button", { type: "button", id: "explore-close" }, "Close");
  const dialog = el("dialog", { id: "explore-dialog", class: "explore", "aria-labelledby": "explore-title" },
    el("h2", { id: "explore-title" }, "Explore every interleaving"), status, results, el("p", {}, cancel, " ", close));
  document.body.append(dialog);
  let run = null;
  const stop = () => {
    if (run) {
      run.cancel();
      run = null;
      status.textContent += " Cancelled.";
      say("Explore cancelled.");
    }
    cancel.disabled = true;
  };
  cancel.addEventListener("click", stop);
  close.addEventListener("click", () => {
    stop();
    dialog.close();
  });
  // The close event comes in a later task: by then Explore may have
  // opened the dialog again for a new search, which it must not cancel.
  dialog.addEventListener("close", () => {
    if (!dialog.open) stop();
  });

  button.addEventListener("click", async () => {
    const src = getSource();
    results.replaceChildren();
    dialog.showModal();
    if (regions(src) === 0) {
      status.textContent = "This scenario has no explore region. Add one (explore … end, see the scenario language reference) around the statements whose order should be left open.";
      cancel.disabled = true;
      return;
    }
    cancel.disabled = false;
    status.textContent = "Starting the search…";
    let live = 0; // counterexamples shown while the search went on
    delete dialog.dataset.found;
    const r = explore(src, {
      onProgress: (p) => {
        status.textContent = `Depth ${p.depth}: ${p.states.toLocaleString("en")} states, ${p.transitions.toLocaleString("en")} transitions, ${rate(p.states, p.ms)} states/s…`;
      },
      onFound: (m) => {
        if (run !== r) return;
        if (!live) status.textContent = status.textContent.replace("Starting the search…", "Searching…");
        dialog.dataset.found = ++live;
        results.append(violationItem(m.violation, ` (found after ${(m.ms / 1000).toFixed(2)} s; the search goes on)`));
      },
    });
    run = r;
    let res;
    try {
      res = await r.done;
    } catch (e) {
      run = null;
      cancel.disabled = true;
      status.textContent = `The scenario cannot be explored: ${e.message}`;
      return;
    }
    if (run !== r || !res) return; // cancelled
    run = null;
    cancel.disabled = true;
    const mb = Math.round(res.maxMemory / 2 ** 20);
    const raise = res.capped
      ? `this page holds a search to ${mb} MB on this device, whatever memory= says; klp explore on the command line has no such limit`
      : "memory=MB on the explore line raises the bound";
    const bound = res.bound === "memory"
      ? ` The memory bound was hit (${mb} MB of states held at once): the search is partial. A smaller region, or fewer steps, explores all of it; ${raise}.`
      : res.bound ? ` The ${res.bound} bound was hit: the search is partial.` : " Every interleaving within the bounds was explored.";
    status.textContent = `${res.states.toLocaleString("en")} states, ${res.transitions.toLocaleString("en")} transitions, ${res.completed} complete interleavings in ${(res.ms / 1000).toFixed(2)} s (${rate(res.states, res.ms)} states/s).${bound}`;
    const broken = new Set(res.violations.map((v) => v.property));
    // the whole list, in the properties' order, in place of the live one
    results.replaceChildren(...res.violations.map((v) => violationItem(v)));
    const held = res.properties.filter((p) => !broken.has(p));
    if (held.length) results.append(el("li", { class: "explore-held" }, `Held in every state explored: ${held.join(", ")}.`));
    say(res.violations.length ? `Explore found ${res.violations.length} broken propert${res.violations.length > 1 ? "ies" : "y"}.` : "Explore found nothing broken.");
  });
}
