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
  if (!follow || scrollPending.has(el)) return;
  scrollPending.add(el);
  requestAnimationFrame(() => {
    scrollPending.delete(el);
    el.scrollTop = el.scrollHeight;
  });
}

const scrollPending = new WeakSet();

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
