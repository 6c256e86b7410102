// Loads the Go runtime (wasm_exec.js) and klp.wasm once per page, however
// many widgets there are and even if this module is imported twice under
// different URLs: the promise lives on globalThis. Files are found
// relative to this module's own URL, so a page on another origin can embed
// the widget with one <script type="module" src=".../widget.js">.

const siteBase = new URL("../", import.meta.url);
const KEY = Symbol.for("klp.runtime");

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.async = true;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(s);
  });
}

async function instantiate(url, response, importObject) {
  // Streaming compiles while downloading but needs application/wasm; a
  // server that sends another type gets the slower buffered path.
  if (WebAssembly.instantiateStreaming) {
    try {
      return await WebAssembly.instantiateStreaming(response, importObject);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
    }
  }
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return WebAssembly.instantiate(await resp.arrayBuffer(), importObject);
}

/**
 * facade wraps the Go functions: they return an Error object instead of
 * throwing (Go cannot throw into JavaScript), and the page wants
 * exceptions. It is installed over globalThis.klp, so console users get
 * the same behaviour; the Go originals stay reachable as klp.raw.
 */
export function facade(raw) {
  const api = { raw };
  for (const [name, fn] of Object.entries(raw)) {
    if (typeof fn !== "function") {
      api[name] = fn;
      continue;
    }
    api[name] = (...args) => {
      const r = fn(...args);
      if (r instanceof Error || (r !== null && typeof r === "object" && r.klpError === true)) {
        throw r instanceof Error ? r : new Error(String(r.message));
      }
      return r;
    };
  }
  return api;
}

async function start() {
  const t0 = performance.now();
  // The download starts before wasm_exec.js is there. (A preload link
  // would start it sooner but reads the body on the main thread as it
  // arrives, delaying a first paint: see lib/firstpaint.js afterFrame.)
  const url = new URL("klp.wasm", siteBase).href;
  const response = fetch(url);
  response.catch(() => {}); // reported by instantiate, not as unhandled
  if (typeof globalThis.Go !== "function") {
    await loadScript(new URL("wasm_exec.js", siteBase).href);
  }
  const go = new globalThis.Go();
  // Registered before go.run: main() dispatches klp-ready synchronously.
  const ready = new Promise((resolve) => globalThis.addEventListener("klp-ready", resolve, { once: true }));
  const { instance } = await instantiate(url, response, go.importObject);
  const state = { exited: false };
  go.run(instance).then(() => {
    // main never returns; if the runtime dies anyway, widgets must say so
    state.exited = true;
    globalThis.dispatchEvent(new Event("klp-exit"));
  });
  await ready;
  const api = facade(globalThis.klp);
  api.loadMs = performance.now() - t0;
  api.state = state;
  globalThis.klp = api;
  return api;
}

/** Resolves to the klp API (see wasm/api.go); starts loading on first call. */
export function loadKlp() {
  if (!globalThis[KEY]) globalThis[KEY] = start();
  return globalThis[KEY];
}

/** Base URL of the site files (examples, wasm), for other modules. */
export const base = siteBase;
