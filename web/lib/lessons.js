// What lesson pages (rendered by the lessons package, see
// lessons/README.md) need besides the widget: progress kept in this
// browser, filled into the syllabus and shown under each step done, hints
// revealed one at a time, and deep links (#step-2, a heading's anchor)
// that still land on their target once the widgets above it have grown.
// It does nothing on a page without lesson markup.

import { h } from "./dom.js";

const KEY = "klp.progress.v1"; // {"04": {"1": true}}: lesson → step → done

function load() {
  try {
    const p = JSON.parse(localStorage.getItem(KEY) || "{}");
    return p && typeof p === "object" && !Array.isArray(p) ? p : {};
  } catch {
    return {};
  }
}

function save(p) {
  try {
    localStorage.setItem(KEY, JSON.stringify(p));
  } catch {
    // storage denied (private mode): progress lasts for this page only
  }
}

/** Marks one step of a lesson done. */
export function markDone(lesson, step) {
  const p = load();
  if (!p[lesson] || typeof p[lesson] !== "object") p[lesson] = {};
  if (p[lesson][step]) return false;
  p[lesson][step] = true;
  save(p);
  return true;
}

function stepsDone(p, lesson, steps) {
  let n = 0;
  for (let i = 1; i <= steps; i++) if (p[lesson] && p[lesson][String(i)]) n++;
  return n;
}

function fillProgress(doc) {
  const p = load();
  for (const s of doc.querySelectorAll("span.klp-progress[data-lesson][data-steps]")) {
    const steps = Number(s.dataset.steps) || 0;
    const done = stepsDone(p, s.dataset.lesson, steps);
    s.textContent = steps && done === steps ? "✓ done" : done ? `${done} of ${steps} steps done` : "";
    s.closest("li")?.classList.toggle("klp-done", steps > 0 && done === steps);
  }
}

/** Shows one hint per click, so the reader can stop at the first that helps. */
function hints(doc) {
  for (const list of doc.querySelectorAll(".klp-hints")) {
    const items = [...list.children];
    if (items.length === 0 || list.dataset.enhanced) continue;
    list.dataset.enhanced = "true";
    let shown = 0;
    for (const li of items) li.hidden = true;
    const btn = h("button", { type: "button", class: "klp-hint-button" });
    const label = () => {
      btn.textContent = shown < items.length ? `Show hint ${shown + 1} of ${items.length}` : "All hints shown";
      btn.disabled = shown >= items.length;
    };
    btn.addEventListener("click", () => {
      if (shown < items.length) items[shown++].hidden = false;
      label();
    });
    label();
    list.after(btn);
  }
}

/**
 * Says under each step whether this browser has met its goals. The line
 * is a live region, so meeting the goals is announced as well as shown.
 */
function stepStatus(doc) {
  const p = load();
  for (const w of doc.querySelectorAll("klp-playground[data-step]")) {
    const lesson = w.dataset.lesson || doc.body.dataset.lesson;
    const step = w.dataset.step;
    let line = w.nextElementSibling;
    if (!line || !line.classList.contains("klp-step-status")) {
      line = h("p", { class: "klp-step-status", role: "status", "data-step": step });
      w.after(line);
    }
    const done = !!(p[lesson] && p[lesson][step]);
    line.textContent = done ? `✓ Step ${step} done: its goals were met (saved in this browser).` : "";
    line.hidden = !done;
    w.toggleAttribute("data-done", done);
  }
}

function onGoals(doc, e) {
  const w = e.target;
  if (!e.detail || !e.detail.done || !(w instanceof Element)) return;
  const lesson = w.dataset.lesson || doc.body.dataset.lesson;
  const step = w.dataset.step;
  if (!lesson || !step) return;
  if (markDone(lesson, step)) {
    fillProgress(doc);
    stepStatus(doc);
  }
}

/**
 * The browser scrolls to the fragment's target when the page loads, but
 * then the widgets above it replace their short text fallback with the
 * whole playground and push it down (only browsers with scroll anchoring
 * keep it in view, and not at the top). Once those widgets are ready,
 * scroll to it again — unless the reader has scrolled meanwhile.
 */
function keepFragmentTarget(doc) {
  const hash = location.hash;
  let id = "";
  try {
    id = decodeURIComponent(hash.slice(1));
  } catch {
    return; // a malformed fragment names nothing
  }
  const target = id && doc.getElementById(id);
  if (!target) return;
  const widgets = [...doc.querySelectorAll("klp-playground")].filter((w) =>
    w === target || w.contains(target) || (w.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_FOLLOWING));
  if (widgets.length === 0) return;
  let moved = false;
  const events = ["wheel", "touchmove", "keydown", "pointerdown"];
  const stop = () => (moved = true);
  for (const ev of events) addEventListener(ev, stop, { passive: true, capture: true });
  customElements.whenDefined("klp-playground")
    .then(() => Promise.allSettled(widgets.map((w) => w.ready)))
    .then(() => {
      for (const ev of events) removeEventListener(ev, stop, { capture: true });
      if (!moved && location.hash === hash) target.scrollIntoView();
    });
}

/** Enhances a lesson or syllabus page; safe to call on any page. */
export function enhance(doc = document) {
  if (!doc.querySelector(".klp-progress, .klp-hints, klp-playground[data-step]")) return;
  fillProgress(doc);
  stepStatus(doc);
  hints(doc);
  keepFragmentTarget(doc);
  doc.addEventListener("klp-goals", (e) => onGoals(doc, e));
}
