// Small DOM helpers. Everything is built with createElement and
// textContent, never by parsing markup, so text from the simulation (task names,
// log lines, scenario text from a link) can never become markup.

/**
 * h("button.primary", {type: "button", onclick: fn, "aria-label": "Step"}, "Step")
 * The tag may carry .classes and a #id. Attributes whose value is false,
 * null or undefined are left out; on* keys become event listeners.
 */
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(".");
  let id = "";
  let el;
  const hash = name.indexOf("#");
  if (hash >= 0) {
    id = name.slice(hash + 1);
    el = document.createElement(name.slice(0, hash) || "div");
  } else {
    el = document.createElement(name || "div");
  }
  if (id) el.id = id;
  for (const c of rest) if (c) el.classList.add(c);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (k === "class") {
        for (const c of String(v).split(/\s+/)) if (c) el.classList.add(c);
      } else if (k === "value" && "value" in el) {
        el.value = v;
      } else if (k === "checked" || k === "selected" || k === "disabled" || k === "open") {
        el[k] = Boolean(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace the children of el, keeping keyboard focus where it was. */
export function replace(el, ...children) {
  const root = el.getRootNode();
  const active = root.activeElement;
  const key = active && el.contains(active) ? active.dataset.focus : undefined;
  const frag = document.createDocumentFragment();
  append(frag, children);
  el.replaceChildren(frag);
  if (key) {
    const again = el.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

/**
 * Makes el's children exactly nodes, moving only what is out of place, so
 * unchanged nodes keep their focus, scroll and open state.
 */
export function reconcile(el, nodes) {
  const root = el.getRootNode();
  const active = root.activeElement;
  const key = active && el.contains(active) ? active.dataset.focus : undefined;
  let i = 0;
  for (const n of nodes) {
    const cur = el.children[i];
    if (cur !== n) el.insertBefore(n, cur || null);
    i++;
  }
  while (el.children.length > nodes.length) el.lastElementChild.remove();
  if (key && !el.contains(root.activeElement)) {
    const again = el.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

/**
 * Appends nodes to a scrolling log, keeps only its last max children
 * (removed in one range, not one by one) and, if follow, scrolls to the
 * end at the next animation frame — once per frame, when
 * the layout is computed anyway, however many lines arrive. The console
 * and the kernel log panel use it: a sweep over thousands of tasks prints
 * thousands of lines at once.
 */
export function appendCapped(el, nodes, max, follow = true) {
  if (nodes.length === 0) return;
  if (nodes.length > max) nodes = nodes.slice(nodes.length - max);
  const frag = document.createDocumentFragment();
  frag.append(...nodes);
  el.appendChild(frag);
  const extra = el.childElementCount - max;
  if (extra > 0) {
    const r = document.createRange();
    r.setStartBefore(el.firstElementChild);
    r.setEndAfter(el.children[extra - 1]);
    r.deleteContents();
  }
  if (follow) followEnd(el);
}

/** Scrolls el to its end at the next animation frame, once per frame. */
function followEnd(el) {
  if (scrollPending.has(el)) return;
  scrollPending.add(el);
  requestAnimationFrame(() => {
    scrollPending.delete(el);
    el.scrollTop = el.scrollHeight;
  });
}

const scrollPending = new WeakSet();

// A chunked log keeps its lines in blocks of LOG_CHUNK. All but the last
// LOG_LIVE blocks get class "cv" (content-visibility: auto), so the
// browser lays out only the blocks on screen and the newest lines; and a
// block that is old already when it arrives is not even fetched or built
// until it is scrolled near (an IntersectionObserver), only sized. A
// retry over 2,000 blocked tasks prints ~1,800 lines at once: fetched,
// built and laid out whole they took 40–180 ms of one frame. The last
// LOG_CHUNK × (LOG_LIVE − 1) lines or more are always built and laid out
// (and so in innerText, which find-in-page and the tests read).
export const LOG_CHUNK = 100;
export const LOG_LIVE = 2;
const lazyItems = new WeakMap(); // a lazy block → a function building its lines
let lazyObserver;

function forget(chunk) {
  if (!lazyItems.has(chunk)) return;
  lazyItems.delete(chunk);
  lazyObserver.unobserve(chunk);
}

function materialize(chunk) {
  const lines = lazyItems.get(chunk);
  if (!lines) return;
  forget(chunk);
  chunk.classList.remove("lazy");
  chunk.style.height = "";
  chunk.append(...lines());
}

/** Empties a chunked log (see appendChunked). */
export function clearChunked(el) {
  for (const c of el.children) forget(c);
  el.replaceChildren();
}

/**
 * appendCapped for a long log: appends n new lines in blocks, where
 * lines(i, k) makes the nodes of new lines i..i+k-1 (called at once for
 * the newest blocks, when scrolled to for the older ones); keeps at
 * least the last max lines (dropping whole blocks from the front) and
 * returns how many lines it holds.
 */
export function appendChunked(el, n, lines, max, follow = true) {
  const skip = Math.max(0, n - max);
  n -= skip;
  let tail = el.lastElementChild;
  const room = n > 0 && tail ? Math.min(n, LOG_CHUNK - (tail.dataset.n | 0)) : 0;
  if (room > 0) {
    tail.append(...lines(skip, room));
    tail.dataset.n = (tail.dataset.n | 0) + room;
  }
  const rest = n - room;
  if (rest > 0) {
    const blocks = Math.ceil(rest / LOG_CHUNK);
    const fresh = [];
    for (let b = 0; b < blocks; b++) {
      const i = skip + room + b * LOG_CHUNK;
      const k = Math.min(LOG_CHUNK, rest - b * LOG_CHUNK);
      const c = h("div.chunk", { "data-n": String(k) });
      if (b < blocks - LOG_LIVE && globalThis.IntersectionObserver) {
        c.classList.add("lazy", "cv");
        c.style.height = `${k}lh`;
        lazyItems.set(c, () => lines(i, k));
        lazyObserver ||= new IntersectionObserver((es) => {
          for (const e of es) if (e.isIntersecting) materialize(e.target);
        }, { rootMargin: "400px 0px" });
      } else {
        c.append(...lines(i, k));
      }
      fresh.push(c);
    }
    const frag = document.createDocumentFragment();
    frag.append(...fresh);
    el.appendChild(frag);
    for (const c of fresh) if (lazyItems.has(c)) lazyObserver.observe(c);
  }
  const chunks = el.children;
  let held = 0;
  for (const c of chunks) held += c.dataset.n | 0;
  let drop = 0;
  while (drop < chunks.length - 1 && held - (chunks[drop].dataset.n | 0) >= max) {
    held -= chunks[drop].dataset.n | 0;
    drop++;
  }
  for (let i = 0; i < drop; i++) forget(chunks[i]);
  if (drop > 0) {
    const r = document.createRange();
    r.setStartBefore(chunks[0]);
    r.setEndAfter(chunks[drop - 1]);
    r.deleteContents();
  }
  for (let i = chunks.length - LOG_LIVE - 1; i >= 0 && !chunks[i].classList.contains("cv"); i--) chunks[i].classList.add("cv");
  if (n > 0 && follow) followEnd(el);
  return held;
}

/** Formats nanoseconds since boot as seconds with 3 decimals. */
export function secs(ns) {
  return (ns / 1e9).toFixed(3);
}

/** Start a download of text as a file (Blob + object URL + <a download>). */
export function download(name, text, type = "text/plain") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, class: "hidden" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
