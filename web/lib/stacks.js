// Drawn stacks: each func_stack as stacked boxes, the livepatch stack in
// stack order, and the mark on a task's stack where the stack check stops.
// All of it is computed from the sim.View (core/sim/view.go); colour always
// comes with a label or a pattern.

import { h, replace } from "./dom.js";
import { s, title } from "./svg.js";

const BOX_H = 22;
const COL_W = 300;

/**
 * Which func_stack entry each task runs now, as the ftrace handler picks
 * it: the top entry, unless that entry is in transition and the task is
 * still unpatched, when it runs the next entry down (or the original). A
 * nop entry runs the original code. Returns counts and pids per box index
 * (0 = top; entries.length = the original).
 */
export function whoRuns(f, tasks) {
  const n = f.Entries.length;
  const boxes = Array.from({ length: n + 1 }, () => ({ count: 0, pids: [] }));
  const top = f.Entries[0];
  for (const t of tasks) {
    let i = 0;
    if (top && top.Transition && t.PatchState === 0) i = 1;
    if (i < n && f.Entries[i].Nop) i = n;
    const b = boxes[Math.min(i, n)];
    b.count++;
    if (b.pids.length < 6) b.pids.push(t.Kind === "idle" ? `swapper/${t.CPU}` : String(t.PID));
  }
  return boxes;
}

function runsText(b) {
  if (!b.count) return "runs: no task";
  const more = b.count > b.pids.length ? ` +${b.count - b.pids.length}` : "";
  return `runs: ${b.count} (${b.pids.join(", ")}${more})`;
}

/** One func_stack as a column of boxes, the original at the bottom. */
export function funcStackFigure(f, tasks) {
  const runs = whoRuns(f, tasks);
  const n = f.Entries.length;
  const height = (n + 1) * BOX_H + 4;
  const rows = [];
  // the newest entry on top … the original at the bottom (also the
  // order a screen reader meets them)
  for (let idx = 0; idx <= n; idx++) {
    const y = 2 + idx * BOX_H;
    const e = idx < n ? f.Entries[idx] : null;
    const label = e ? (e.Nop ? `${e.Patch}: nop (original code)` : `${e.Patch}: ${e.New}`) : `original ${f.Func}`;
    const cls = e ? `${e.Nop ? "nop" : "ver"}${e.Transition ? " transition" : ""}${idx === 0 ? " top" : ""}` : "orig";
    const b = runs[idx];
    rows.push(s("g.fbox", { class: cls, "data-index": idx, "data-label": label },
      s("rect", { x: 1, y: y + 1, width: COL_W - 2, height: BOX_H - 3, rx: 3 }),
      s("text.fb-name", { x: 6, y: y + 14 }, label.length > 43 ? `${label.slice(0, 42)}…` : label),
      title(`${label}${e && e.Transition ? " (in transition)" : ""} — ${runsText(b)}`)));
    rows.push(s("text.fb-runs", { x: COL_W + 6, y: y + 14, class: b.count ? "some" : "none" }, `${e && e.Transition ? "in transition · " : ""}${runsText(b)}`));
  }
  return h("figure.fstack", { "data-func": f.Func },
    s("svg.fstack-svg", { viewBox: `0 0 ${COL_W + 320} ${height}`, width: COL_W + 320, height, role: "img", "aria-label": `func_stack of ${f.Func}: ${n} entries above the original` }, rows),
    h("figcaption", null, h("code", null, f.Func), ` (${f.Object})`));
}

/** Draws every func_stack into el. */
export function drawFuncStacks(el, view) {
  const fs = view.FuncStacks || [];
  replace(el, fs.map((f) => funcStackFigure(f, view.Tasks)));
}

/**
 * What disabling a patch would do to each of its functions, from the
 * func_stacks: the top entry gives way to the one below (or the
 * original); an entry below the top changes nothing the tasks run.
 */
export function disableEffect(view, p) {
  const out = [];
  for (const f of view.FuncStacks || []) {
    const i = f.Entries.findIndex((e) => e.Patch === p.Name);
    if (i < 0) continue;
    if (i > 0) {
      out.push(`${f.Func}: no change (${f.Entries[0].Patch} is on top)`);
      continue;
    }
    const next = f.Entries[1];
    out.push(`${f.Func} → ${next ? (next.Nop ? "original (next is a nop)" : `${next.Patch}'s ${next.New}`) : "original"}`);
  }
  return out;
}

/** The livepatch stack: stack_order 1 at the bottom. */
export function drawPatchStack(el, view) {
  const patches = (view.Patches || []).slice().sort((a, b) => a.StackOrder - b.StackOrder);
  if (!patches.length) {
    el.replaceChildren();
    return;
  }
  const W = 560;
  const LH = 15;
  const boxes = patches.map((p) => {
    const funcs = [];
    for (const o of p.Objects || []) for (const f of o.Funcs || []) funcs.push({ o, f });
    const effect = p.Enabled ? disableEffect(view, p) : [];
    const lines = 1 + funcs.length + (effect.length ? 1 : 0) + (p.Replace ? 1 : 0);
    return { p, funcs, effect, h: lines * LH + 10 };
  });
  const height = boxes.reduce((a, b) => a + b.h + 6, 0);
  const out = [];
  let y = height;
  for (const b of boxes) {
    y -= b.h + 6;
    const p = b.p;
    const state = [p.Enabled ? "enabled" : "disabled", p.Transition ? "in transition" : "", p.Forced ? "forced" : "", p.Replace ? "replace" : ""].filter(Boolean).join(", ");
    const g = s("g.pbox", { class: `${p.Enabled ? "enabled" : "disabled"}${p.Transition ? " transition" : ""}`, "data-patch": p.Name, "data-order": p.StackOrder },
      s("rect", { x: 1, y: y + 1, width: W - 2, height: b.h, rx: 4 }),
      s("text.pb-name", { x: 8, y: y + LH }, `${p.StackOrder}. ${p.Name}`),
      s("text.pb-state", { x: W - 8, y: y + LH, "text-anchor": "end" }, state),
      title(`${p.Name}: stack_order ${p.StackOrder}, ${state}`));
    let ly = y + LH;
    for (const { o, f } of b.funcs) {
      ly += LH;
      g.append(s("text.pb-func", { x: 18, y: ly, class: f.Nop ? "nop" : "" },
        `${o.Name === "vmlinux" ? "" : `[${o.Name}] `}${f.Old} → ${f.Nop ? "nop (original)" : f.New}${f.Transition ? " · in transition" : ""}${f.Patched ? "" : " · not patched"}`));
    }
    if (p.Replace) {
      ly += LH;
      g.append(s("text.pb-note", { x: 18, y: ly }, "replace: when its transition completes, every patch below is disabled and freed (nops undo what they changed)"));
    }
    if (b.effect.length) {
      ly += LH;
      g.append(s("text.pb-note", { x: 18, y: ly }, `disabling: ${b.effect.join("; ")}`));
    }
    out.push(g);
  }
  el.replaceChildren(s("svg.pstack-svg", { viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": `livepatch stack: ${patches.length} patches, newest on top` }, out));
}

/**
 * Where the stack check of a task stops: the transition patch's functions
 * are checked in patch order, and the first one found on the stack (in the
 * version the task must leave) fails the check. Returns the frame's index,
 * or -1.
 */
export function checkedFrame(view, t) {
  if (!view.Transition || !t.Pending || !t.Stack) return -1;
  const p = (view.Patches || []).find((x) => x.Transition);
  if (!p) return -1;
  const leaving = view.Transition.Target === "patching" ? "old" : "new";
  for (const o of p.Objects || []) {
    for (const f of o.Funcs || []) {
      const i = t.Stack.findIndex((fr) => fr.Role === leaving && (fr.Called === f.Old || fr.Func === f.Old));
      if (i >= 0) return i;
    }
  }
  return -1;
}
