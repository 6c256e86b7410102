// The transition timeline: every task's patch_state over simulated time,
// drawn in SVG, with lanes for the transition itself, the CPUs and the
// consistency checker's alarms, and a cursor at the current time.
//
// It is built incrementally from what the core reports: the sim.Events
// since the last change (read by their fields — Kind, PID, CPU, Time and,
// when the core gives them, Reason and Parent; kinds it does not know are
// drawn as generic marks) and the view's per-task patch_state, compared
// with what it saw last. Only the lanes on screen are drawn, so thousands
// of tasks cost a few hundred SVG elements; groups (idle, kthreads, user)
// fold into one summary lane each.
//
// The model keeps the furthest timeline seen: after the slider goes back,
// the later part stays drawn faded behind the cursor (what redo would
// replay); the next action there drops it, as the session's fork does.

import { h } from "./dom.js";
import { s, title, stateDefs, stateFill, reducedMotion, prefix } from "./svg.js";

// How long after the change that sent it a fake signal is drawn travelling.
const TRAVEL_MS = 1500;
const ROW = 16; // lane height (px)
const LABEL = 132; // label column width (px)

// Where the cursor's "t = … s" label starts: right of the cursor, kept
// inside the drawing at the right edge.
const cursorLabelX = (nowX, width) => Math.min(nowX + 3, width - 66);
const GROUPS = [["user", "user tasks"], ["kthread", "kthreads"], ["idle", "idle tasks"]];
const OPEN_MAX = 64; // groups with more tasks start folded
const OVERSCAN = 6; // lanes drawn beyond the visible ones
const MAX_MARKS = 64; // marks kept per lane (the newest)
const TRANSITION_MARKS = 2000;

function keyOf(t) {
  return t.Kind === "idle" ? `idle${t.CPU}` : String(t.PID);
}

function fmtS(ns) {
  const v = ns / 1e9;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Cuts a list of [time, …] entries after time t. */
function cut(list, t) {
  let n = list.length;
  while (n > 0 && list[n - 1].t > t) n--;
  list.length = n;
}

export class Timeline {
  constructor(session) {
    this.session = session;
    this.pfx = prefix("tl");
    this.open = new Map(); // group kind → expanded
    this.toggles = h("div.tl-groups", { role: "group", "aria-label": "Task groups" });
    this.legend = h("p.tl-legend.small");
    this.svg = s("svg.tl", { role: "img", "aria-label": "Transition timeline" });
    this.scroller = h("div.tl-scroll", { tabindex: "0", "aria-label": "Timeline lanes (scroll for more tasks; click to move the cursor)" }, this.svg);
    // The scroller's size and position, kept from its events: reading
    // them while drawing would force a layout after the other panels'
    // changes.
    this.box = { w: 640, h: 400, top: 0 };
    this.scroller.addEventListener("scroll", () => {
      this.box.top = this.scroller.scrollTop;
      this.schedule();
    }, { passive: true });
    this.svg.addEventListener("pointerdown", (e) => this.scrub(e));
    this.summary = h("p.tl-summary.sr-only", { "aria-live": "polite" });
    this.el = h("section.panel.timeline", { "aria-label": "Timeline" },
      h("h2", null, "Timeline"), this.toggles, this.legend, this.scroller, this.summary);
    this.drawQueued = false;
    this.reset();
    if (globalThis.ResizeObserver) {
      new ResizeObserver(() => {
        this.box.w = this.scroller.clientWidth || 640;
        this.box.h = this.scroller.clientHeight || 400;
        this.schedule();
      }).observe(this.scroller);
    }
  }

  reset() {
    this.tasks = new Map(); // key → lane
    this.order = []; // keys in first-seen order, grouped at draw time
    this.cpus = new Map(); // id → {segs: [{t, text, cls}]}
    this.trans = { segs: [], marks: [] }; // transition lane
    this.alarms = [];
    this.groups = new Map(); // kind → [{t, n: [idle, unpatched, patched], total}]
    this.nextEv = 0;
    this.now = 0;
    this.end = 0; // furthest time seen
    this.t0 = null;
    this.ckTimes = []; // checkpoint index → simulated time seen there
    this.behind = false;
    this.lastTrans = "";
    this.fresh = new Set(); // keys switched in the latest change (animated)
  }

  /** Called by the widget after every change with the new view. */
  update(view, rewind) {
    const hist = this.session.history();
    const first = this.view === undefined;
    this.view = view;
    if (rewind && !first) {
      // The slider moved: the machine is an earlier (or later) one of the
      // same run. Keep the model; only the cursor and the event count move.
      this.now = view.Time;
      const last = this.session.events(0, 1);
      this.nextEv = last.length ? last[0].Seq + 1 : 0;
      this.sync(view, true);
      this.behind = this.now < this.end;
    } else {
      if (this.behind) {
        // An action after going back (or a fork) drops the faded future.
        this.truncate(this.now);
        this.behind = false;
      }
      this.now = view.Time;
      this.ingest(view);
    }
    this.ckTimes.length = Math.min(this.ckTimes.length, hist.count);
    this.ckTimes[hist.pos] = view.Time;
    if (this.t0 === null) this.t0 = view.Time;
    this.end = Math.max(this.end, view.Time);
    this.draw();
  }

  truncate(t) {
    for (const l of this.tasks.values()) {
      cut(l.segs, t);
      cut(l.marks, t);
      cut(l.waits, t);
      for (const w of l.waits) if (w.end > t) w.end = null;
      if (l.gone > t) l.gone = 0;
      if (l.born > t) l.hiddenUntil = true;
    }
    for (const [k, l] of this.tasks) {
      if (l.hiddenUntil) {
        this.tasks.delete(k);
        this.order = this.order.filter((x) => x !== k);
      }
    }
    for (const c of this.cpus.values()) cut(c.segs, t);
    cut(this.trans.segs, t);
    cut(this.trans.marks, t);
    cut(this.alarms, t);
    for (const g of this.groups.values()) cut(g, t);
    this.end = t;
  }

  /** Reads the events since the last change, then diffs the view. */
  ingest(view) {
    const evs = this.session.events(this.nextEv);
    if (evs.length) this.nextEv = evs[evs.length - 1].Seq + 1;
    const byPid = new Map();
    const idleOn = new Map(); // CPU → its idle task
    for (const t of view.Tasks) {
      if (t.Kind !== "idle") byPid.set(t.PID, t);
      else idleOn.set(t.CPU || 0, t);
    }
    // pid 0 is an idle task: its CPU says which (CPU 0 comes as no field);
    // a lane is made on the first event, so early switches are drawn too
    const laneOf = (pid, cpu, e) => {
      if (!pid) {
        const lane = this.tasks.get(`idle${cpu || 0}`);
        return lane || !idleOn.has(cpu || 0) ? lane : this.addLane(idleOn.get(cpu || 0), e.Time);
      }
      const lane = this.tasks.get(String(pid));
      if (lane || !byPid.has(pid)) return lane;
      return this.addLane(byPid.get(pid), e.Time, e.Parent);
    };
    // A switch reaches Switch.To; without it, the transition's target.
    const target = (view.Transition ? view.Transition.Target : this.target) === "unpatching" ? 0 : 1;
    this.fresh = new Set();
    this.signalled = []; // fake signals of this change: {t, pid}, drawn travelling
    this.signalledAt = performance.now();
    for (const e of evs) {
      const sw = e.Switch || {};
      const mark = { t: e.Time, kind: e.Kind, text: e.Text || e.Kind, reason: sw.Reason || e.Reason || "" };
      switch (e.Kind) {
        case "switch": {
          // one event may stand for many tasks (a sweep's stack checks)
          const to = sw.To ?? e.To ?? target;
          const lanes = sw.PIDs && sw.PIDs.length ? sw.PIDs.map((pid) => laneOf(pid, undefined, e)) : [laneOf(e.PID, e.CPU, e)];
          for (const lane of lanes) {
            if (!lane) continue;
            if (lane.ps !== to) {
              lane.segs.push({ t: e.Time, ps: to });
              lane.ps = to;
            }
            // the end of the transition is drawn by the segments alone
            if (mark.reason === "complete") continue;
            this.addMark(lane, mark);
            this.fresh.add(lane.key);
          }
          continue;
        }
        case "alarm":
        case "hazard":
        case "warning":
          this.alarms.push({ ...mark, pid: e.PID });
          break;
        case "step":
        case "sync":
        case "wait":
        case "callback":
        case "module":
        case "func":
          this.trans.marks.push(mark);
          break;
        default:
      }
      if (e.PID && e.Wait) {
        // a task asleep in the kernel (the shell in its command): a band
        // on its lane from the wait's begin to its end
        const lane = laneOf(e.PID, e.CPU, e);
        if (lane && !e.Wait.End) lane.waits.push({ t: e.Time, end: null, text: e.Text || "" });
        else if (lane && lane.waits.length) lane.waits[lane.waits.length - 1].end ??= e.Time;
      }
      if (e.PID) {
        const lane = laneOf(e.PID, e.CPU, e);
        if (lane && e.Kind !== "call") this.addMark(lane, mark);
        if (lane && e.Kind === "signal") this.signalled.push({ t: e.Time, pid: e.PID });
      } else if (e.Kind === "signal") {
        this.trans.marks.push(mark);
      }
    }
    if (this.trans.marks.length > TRANSITION_MARKS) this.trans.marks.splice(0, this.trans.marks.length - TRANSITION_MARKS);
    this.sync(view, false);
  }

  addMark(lane, mark) {
    lane.marks.push(mark);
    if (lane.marks.length > MAX_MARKS) lane.marks.splice(0, lane.marks.length - MAX_MARKS);
  }

  addLane(t, at, parent) {
    const key = keyOf(t);
    const lane = { key, pid: t.PID, comm: t.Comm, kind: t.Kind, born: at, gone: 0, segs: [], marks: [], waits: [], ps: null, tgid: t.TGID, parent: parent || (t.TGID && t.TGID !== t.PID ? t.TGID : 0) };
    this.tasks.set(key, lane);
    // idle lanes in CPU order, whichever switched first
    const i = t.Kind === "idle" ? this.order.findIndex((k) => k.startsWith("idle") && Number(k.slice(4)) > (t.CPU || 0)) : -1;
    if (i >= 0) this.order.splice(i, 0, key);
    else this.order.push(key);
    return lane;
  }

  /** Brings lanes, CPUs, the transition and group counts up to the view. */
  sync(view, rewind) {
    const now = view.Time;
    const seen = new Set();
    const counts = new Map();
    for (const t of view.Tasks) {
      const key = keyOf(t);
      seen.add(key);
      let lane = this.tasks.get(key);
      if (!lane) lane = this.addLane(t, this.t0 === null ? now : now, 0);
      lane.comm = t.Comm;
      lane.now = t;
      if (!rewind && lane.ps !== t.PatchState) {
        lane.segs.push({ t: lane.segs.length ? now : lane.born, ps: t.PatchState });
        lane.ps = t.PatchState;
      }
      let c = counts.get(t.Kind);
      if (!c) counts.set(t.Kind, (c = [0, 0, 0]));
      c[t.PatchState + 1]++;
    }
    if (rewind) return;
    for (const l of this.tasks.values()) {
      if (!seen.has(l.key) && !l.gone) {
        l.gone = now;
        l.now = null;
      }
    }
    for (const [kind, c] of counts) {
      let g = this.groups.get(kind);
      if (!g) this.groups.set(kind, (g = []));
      const last = g[g.length - 1];
      if (!last || last.n[0] !== c[0] || last.n[1] !== c[1] || last.n[2] !== c[2]) g.push({ t: now, n: c });
      // big groups fold, until the reader opens them
      if (!this.userToggled?.has(kind)) this.open.set(kind, c[0] + c[1] + c[2] <= OPEN_MAX);
    }
    for (const c of view.CPUs) {
      let lane = this.cpus.get(c.ID);
      if (!lane) this.cpus.set(c.ID, (lane = { segs: [] }));
      const text = !c.Online ? "offline" : c.Curr ? `${c.CurrComm}:${c.Curr}` : "idle";
      const cls = !c.Online ? "off" : c.Curr ? "busy" : "idle";
      const last = lane.segs[lane.segs.length - 1];
      if (!last || last.text !== text) lane.segs.push({ t: now, text, cls, nohz: c.NohzFull });
    }
    const tr = view.Transition;
    if (tr) this.target = tr.Target;
    const sig = tr ? `${tr.Patch} ${tr.Target}` : "";
    if (sig !== this.lastTrans) {
      this.trans.segs.push({ t: now, text: tr ? `${tr.Patch} ${tr.Target}` : "", target: tr ? tr.Target : "" });
      this.lastTrans = sig;
    }
    if (tr) {
      const last = this.trans.segs[this.trans.segs.length - 1];
      if (last.retries !== undefined && tr.Retries !== last.retries && tr.Retries > 0) {
        this.trans.marks.push({ t: now, kind: "retry", text: `retry ${tr.Retries} (klp_signals_cnt)`, reason: "" });
      }
      last.retries = tr.Retries;
      last.nextSignal = tr.NextSignal;
      last.nextRetry = tr.NextRetry;
    }
  }

  // --- drawing --------------------------------------------------------------

  schedule() {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  /** The rows in drawing order (only their descriptions; cheap). */
  rows() {
    const rows = [{ type: "head", text: "transition" }, { type: "trans" }];
    if (this.cpus.size) {
      rows.push({ type: "head", text: "CPUs" });
      for (const id of [...this.cpus.keys()].sort((a, b) => a - b)) rows.push({ type: "cpu", id });
    }
    const byKind = new Map();
    for (const k of this.order) {
      const l = this.tasks.get(k);
      if (!l) continue;
      let list = byKind.get(l.kind);
      if (!list) byKind.set(l.kind, (list = []));
      list.push(l);
    }
    for (const [kind] of GROUPS) {
      const list = byKind.get(kind);
      if (!list) continue;
      rows.push({ type: "group", kind, count: list.length });
      if (this.open.get(kind)) for (const l of list) rows.push({ type: "task", lane: l });
    }
    rows.push({ type: "alarms" });
    return rows;
  }

  draw() {
    const view = this.view;
    if (!view) return;
    const rows = this.rows();
    const width = Math.max(320, this.box.w);
    const height = rows.length * ROW + 22;
    const t0 = this.t0 ?? 0;
    const tEnd = Math.max(this.end, this.now, t0 + 1e9);
    const plot = width - LABEL - 10;
    this.width = width;
    const X = (t) => LABEL + ((Math.max(t0, Math.min(t, tEnd)) - t0) / (tEnd - t0)) * plot;
    this.X = X;
    this.xInv = (x) => t0 + ((x - LABEL) / plot) * (tEnd - t0);
    const top = this.box.top;
    const visH = this.box.h;
    const first = Math.max(0, Math.floor((top - 22) / ROW) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + visH) / ROW) + OVERSCAN);
    const nowX = X(this.now);
    const out = [stateDefs(this.pfx), this.axis(X, t0, tEnd, width, nowX)];
    const y0 = 22;
    const laneY = new Map();
    let transY = -1;
    for (let i = first; i < last; i++) {
      const r = rows[i];
      const y = y0 + i * ROW;
      const g = this.row(r, y, X, width);
      if (g) out.push(g);
      if (r.type === "task") laneY.set(r.lane.pid, y);
      if (r.type === "trans") transY = y;
    }
    // a fake signal just sent travels from the transition's lane to each
    // target's (for a moment after the change that sent it; not at all
    // under prefers-reduced-motion, where the marks alone show it)
    if (transY >= 0 && this.signalled?.length && performance.now() - this.signalledAt < TRAVEL_MS && !reducedMotion()) {
      for (const { t, pid } of this.signalled) {
        if (!laneY.has(pid)) continue;
        const dot = s("circle.travel", { cx: X(t), cy: transY + ROW / 2, r: 3.5, "data-pid": pid }, title(`fake signal to ${pid}`));
        // through the CSSOM: a style attribute would need 'unsafe-inline'
        // in a strict CSP (the embedding tests use one)
        dot.style.setProperty("--dy", `${laneY.get(pid) - transY}px`);
        out.push(dot);
      }
    }
    // forks as branches from the parent's lane
    for (let i = first; i < last; i++) {
      const r = rows[i];
      if (r.type !== "task" || !r.lane.parent || !laneY.has(r.lane.parent) || r.lane.born <= t0) continue;
      const x = X(r.lane.born);
      const py = laneY.get(r.lane.parent) + ROW / 2;
      const cy = y0 + i * ROW + ROW / 2;
      out.push(s("path.fork", { d: `M${x - 8},${py} C${x - 2},${py} ${x - 6},${cy} ${x},${cy}`, "data-pid": r.lane.pid }, title(`${r.lane.comm}:${r.lane.pid} forked from ${r.lane.parent}`)));
    }
    // the faded future (after going back) and the cursor
    if (this.end > this.now) out.push(s("rect.future", { x: nowX, y: 18, width: Math.max(0, X(this.end) - nowX), height: height - 18 }, title("later steps: redo replays them; an action here drops them")));
    out.push(s("line.cursor", { x1: nowX, y1: 14, x2: nowX, y2: height, "data-time": this.now }));
    out.push(s("text.cursor-label", { x: cursorLabelX(nowX, width), y: 12 }, `t = ${fmtS(this.now)} s`));
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.svg.replaceChildren(...out);
    this.svg.dataset.time = String(this.now);
    this.drawToggles();
    const tr = view.Transition;
    this.summary.textContent = tr ? `${tr.Patch} ${tr.Target}: ${tr.Switched} of ${tr.Total} tasks switched at ${fmtS(this.now)} s` : `no transition at ${fmtS(this.now)} s`;
  }

  axis(X, t0, tEnd, width, nowX) {
    const span = (tEnd - t0) / 1e9;
    const steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
    const step = (steps.find((x) => span / x <= Math.max(2, (width - LABEL) / 80)) || 1200) * 1e9;
    const g = s("g.axis");
    for (let t = Math.ceil(t0 / step) * step; t <= tEnd; t += step) {
      const x = X(t);
      g.append(s("line.tick", { x1: x, y1: 14, x2: x, y2: 20 }));
      // the cursor's label (drawn at cursorLabelX, ~66 px wide) wins over
      // a tick label (~44 px) under it; none is cut at the right edge
      const cx = cursorLabelX(nowX, width);
      if ((x + 2 + 44 < cx || x + 2 > cx + 66) && x + 2 + 44 <= width) g.append(s("text.tick", { x: x + 2, y: 12 }, `${fmtS(t)} s`));
    }
    g.append(s("text.axis-label", { x: 4, y: 12 }, "simulated time"));
    return g;
  }

  label(y, text, cls = "") {
    return s(`text.lane-label${cls}`, { x: 4, y: y + ROW - 4 }, text.length > 20 ? `${text.slice(0, 19)}…` : text);
  }

  row(r, y, X, width) {
    switch (r.type) {
      case "head":
        return s("g.head", null, s("text.head", { x: 2, y: y + ROW - 3 }, r.text));
      case "trans":
        return this.transRow(y, X);
      case "cpu":
        return this.cpuRow(r.id, y, X);
      case "group":
        return this.groupRow(r, y, X);
      case "task":
        return this.taskRow(r.lane, y, X);
      case "alarms":
        return this.alarmRow(y, X, width);
      default:
        return null;
    }
  }

  /** Segments from a sorted list, each to the next one's start or end. */
  spans(segs, X, end, fn) {
    const out = [];
    for (let i = 0; i < segs.length; i++) {
      const a = segs[i].t;
      const b = i + 1 < segs.length ? segs[i + 1].t : end;
      if (b < a) continue;
      // the open (last) span shows at least a stub: the state now
      out.push(fn(segs[i], X(a), Math.max(i + 1 < segs.length ? 1 : 5, X(b) - X(a))));
    }
    return out;
  }

  transRow(y, X) {
    const g = s("g.lane.trans", { "data-lane": "transition" }, this.label(y, "transition"));
    const end = this.end;
    g.append(...this.spans(this.trans.segs, X, end, (seg, x, w) => (seg.target
      ? s("rect.tr-on", { x, y: y + 2, width: w, height: ROW - 4, class: `tr-${seg.target}` }, title(seg.text))
      : null)).filter(Boolean));
    for (const seg of this.trans.segs) {
      if (seg.target) g.append(s("text.seg-label", { x: X(seg.t) + 3, y: y + ROW - 4 }, seg.text));
    }
    const cur = this.trans.segs[this.trans.segs.length - 1];
    if (cur && cur.target && cur.nextSignal >= 0 && this.now === this.end) {
      // the fake-signal countdown: from now to the next automatic signal
      const x0 = X(this.now);
      const x1 = X(cur.nextSignal);
      g.append(s("line.countdown", { x1: x0, y1: y + ROW - 2, x2: Math.max(x1, x0 + 2), y2: y + ROW - 2 },
        title(`next automatic fake signal in ${fmtS(cur.nextSignal - this.now)} s (retry ${cur.retries})`)));
    }
    const labelled = this.labelled(this.trans.marks, X);
    for (const m of this.trans.marks) g.append(this.mark(m, X(m.t), y, labelled.has(m)));
    return g;
  }

  cpuRow(id, y, X) {
    const lane = this.cpus.get(id);
    const g = s("g.lane.cpu", { "data-lane": `cpu${id}` }, this.label(y, `CPU ${id}`));
    g.append(...this.spans(lane.segs, X, this.end, (seg, x, w) => s("g", null,
      s("rect", { x, y: y + 3, width: w, height: ROW - 6, class: `cpu-${seg.cls}${seg.nohz ? " nohz" : ""}` },
        title(`CPU ${id}: ${seg.text}${seg.nohz ? " (nohz_full)" : ""}`)),
      w > 40 ? s("text.seg-label", { x: x + 2, y: y + ROW - 4 }, seg.text) : null)));
    return g;
  }

  groupRow(r, y, X) {
    const open = this.open.get(r.kind);
    const name = GROUPS.find((g) => g[0] === r.kind)?.[1] || r.kind;
    const samples = this.groups.get(r.kind) || [];
    const g = s("g.lane.group", { "data-lane": `group-${r.kind}` }, this.label(y, `${open ? "▾" : "▸"} ${name} (${r.count})`, ".group-label"));
    // summary: the share of each patch_state over time, stacked
    g.append(...this.spans(samples, X, this.end, (smp, x, w) => {
      const tot = smp.n[0] + smp.n[1] + smp.n[2] || 1;
      const hp = ((ROW - 4) * smp.n[2]) / tot;
      const hu = ((ROW - 4) * smp.n[1]) / tot;
      return s("g", null,
        s("rect", { x, y: y + 2, width: w, height: ROW - 4, fill: stateFill(this.pfx, -1), class: "seg psn" }),
        hu ? s("rect", { x, y: y + 2 + hp, width: w, height: hu, fill: stateFill(this.pfx, 0), class: "seg ps0" }) : null,
        hp ? s("rect", { x, y: y + 2, width: w, height: hp, fill: stateFill(this.pfx, 1), class: "seg ps1" }) : null);
    }));
    const last = samples[samples.length - 1];
    if (last) g.append(title(`${name}: ${last.n[2]} patched, ${last.n[1]} unpatched, ${last.n[0]} with no transition state`));
    return g;
  }

  taskRow(l, y, X) {
    const name = l.kind === "idle" ? l.comm : `${l.pid} ${l.comm}`;
    const g = s("g.lane.task", { "data-lane": l.key, "data-pid": l.pid, class: this.fresh.has(l.key) && !reducedMotion() ? "fresh" : "" }, this.label(y, name));
    const end = l.gone || this.end;
    g.append(...this.spans(l.segs, X, end, (seg, x, w) => s("rect", {
      x, y: y + 2, width: w, height: ROW - 4, fill: stateFill(this.pfx, seg.ps),
      class: `seg ps${seg.ps < 0 ? "n" : seg.ps}`, "data-ps": seg.ps,
    }, title(`${name}: patch_state ${seg.ps} ${this.stateName(seg.ps)} from ${fmtS(seg.t)} s`))));
    if (l.gone) g.append(s("text.seg-label", { x: X(l.gone) + 2, y: y + ROW - 4 }, "exited"));
    for (const w of l.waits) {
      const x = X(w.t);
      const b = w.end ?? end;
      g.append(s("rect.kwait", { x, y: y + ROW - 5, width: Math.max(3, X(b) - x), height: 3, "data-time": w.t },
        title(`${name} sleeps in the kernel (D) from ${fmtS(w.t)} s${w.end === null ? "" : ` to ${fmtS(w.end)} s`}: ${w.text.replace(/^wait begins: /, "")}`)));
    }
    const labelled = this.labelled(l.marks, X);
    for (const m of l.marks) g.append(this.mark(m, X(m.t), y, labelled.has(m)));
    return g;
  }

  /**
   * labelled picks the marks of a lane whose reason is drawn: in time
   * order, a label that would run into the one before it is left out
   * (the mark keeps it in its title), so that two switches close in time
   * do not print one word over the other.
   */
  labelled(marks, X) {
    const out = new Set();
    let end = -Infinity;
    for (const m of [...marks].sort((a, b) => a.t - b.t)) {
      if (!m.reason) continue;
      const p = this.reasonPlace(m.reason, X(m.t));
      if (p.left < end) continue;
      out.add(m);
      end = p.right + 4;
    }
    return out;
  }

  alarmRow(y, X, width) {
    const g = s("g.lane.alarms", { "data-lane": "alarms" }, this.label(y, "checker alarms"));
    if (!this.alarms.length) g.append(s("text.seg-label.none", { x: LABEL + 2, y: y + ROW - 4 }, "none"));
    const labelled = this.labelled(this.alarms, X);
    for (const a of this.alarms) g.append(this.mark(a, X(a.t), y, labelled.has(a)));
    void width;
    return g;
  }

  stateName(ps) {
    const n = this.view && this.view.StateNames;
    return (n && n[String(ps)]) || String(ps);
  }

  /**
   * One event mark: a shape per kind, its reason (if any, unless
   * withLabel is false) and text as title.
   */
  mark(m, x, y, withLabel = true) {
    const c = y + ROW / 2;
    let shape;
    switch (m.kind) {
      case "switch":
        shape = s("path", { d: `M${x},${y + 1} L${x + 4},${c} L${x},${y + ROW - 1} L${x - 4},${c} Z` });
        break;
      case "alarm":
      case "hazard":
      case "warning":
        shape = s("g", null, s("rect", { x: x - 5, y: y + 1, width: 10, height: ROW - 2, rx: 2 }), s("text.bang", { x: x - 2, y: y + ROW - 4 }, "!"));
        break;
      case "signal":
        shape = s("circle", { cx: x, cy: c, r: 3.5 });
        break;
      case "retry":
      case "step":
        shape = s("line", { x1: x, y1: y + 3, x2: x, y2: y + ROW - 3 });
        break;
      case "sync":
        shape = s("rect", { x: x - 3, y: y + 3, width: 6, height: ROW - 6 });
        break;
      case "wait":
        // an hourglass: a wait begins or ends (an RCU Tasks grace period)
        shape = s("path", { d: `M${x - 4},${y + 2} L${x + 4},${y + 2} L${x - 4},${y + ROW - 2} L${x + 4},${y + ROW - 2} Z` });
        break;
      default:
        shape = s("circle", { cx: x, cy: c, r: 2 });
    }
    const label = m.reason ? `${m.kind} (${m.reason}): ${m.text}` : `${m.kind}: ${m.text}`;
    return s("g.mark", { class: `mk-${m.kind}`, "data-kind": m.kind, "data-reason": m.reason || null, "data-time": m.t },
      shape, title(`${fmtS(m.t)} s — ${label}`),
      m.reason && withLabel ? this.reasonLabel(m.reason, x, y) : null);
  }

  /**
   * Where a switch's reason goes beside its mark at x: right of it, or
   * left at the edge; left and right are its extent.
   */
  reasonPlace(reason, x) {
    const w = reason.length * 5; // 8px monospace: about 5px a character
    if (x + 5 + w <= this.width) return { x: x + 5, anchor: null, left: x + 5, right: x + 5 + w };
    return { x: x - 5, anchor: "end", left: x - 5 - w, right: x - 5 };
  }

  reasonLabel(reason, x, y) {
    const p = this.reasonPlace(reason, x);
    return s("text.reason", { x: p.x, y: y + ROW - 5, "text-anchor": p.anchor }, reason);
  }

  drawToggles() {
    const kinds = GROUPS.filter(([k]) => this.groups.has(k));
    const legend = [
      ["ps1", `patched (${this.stateName(1)}): dotted`],
      ["ps0", `unpatched (${this.stateName(0)}): hatched`],
      ["psn", "no transition (-1): plain"],
    ];
    if (!this.legendBuilt) {
      this.legendBuilt = true;
      this.legend.replaceChildren(...legend.map(([cls, text]) => h("span.lg", null,
        s("svg.sw", { width: 18, height: 10, "aria-hidden": "true" }, stateDefs(`${this.pfx}-lg-${cls}`),
          s("rect", { width: 18, height: 10, fill: stateFill(`${this.pfx}-lg-${cls}`, cls === "ps1" ? 1 : cls === "ps0" ? 0 : -1) })),
        ` ${text}  `)),
      h("span.lg", null, "◆ switch · ● signal · ! alarm · | step/retry · ▮ sync · ",
        // the wait mark's own shape: ⧗ is missing from common fonts
        s("svg.sw", { width: 10, height: 10, "aria-hidden": "true" }, s("path", { d: "M1,0 L9,0 L1,10 L9,10 Z", fill: "currentColor" })),
        " wait · ",
        s("svg.sw", { width: 12, height: 10, "aria-hidden": "true" }, s("rect.kwait", { x: 0, y: 6, width: 12, height: 3 })),
        " asleep in the kernel"));
    }
    const want = kinds.map(([k, name]) => `${k}:${this.open.get(k)}:${this.countOf(k)}`).join(",");
    if (want === this.toggleSig) return;
    this.toggleSig = want;
    this.toggles.replaceChildren(...kinds.map(([k, name]) => h("button.small", {
      type: "button",
      "aria-expanded": String(Boolean(this.open.get(k))),
      "data-group": k,
      onclick: () => {
        this.open.set(k, !this.open.get(k));
        (this.userToggled ||= new Set()).add(k);
        this.draw();
      },
    }, `${this.open.get(k) ? "Fold" : "Unfold"} ${name} (${this.countOf(k)})`)));
  }

  countOf(kind) {
    let n = 0;
    for (const l of this.tasks.values()) if (l.kind === kind && !l.gone) n++;
    return n;
  }

  /** A click on the lanes moves to the last step at or before that time. */
  scrub(e) {
    if (!this.xInv || e.button !== 0) return;
    const r = this.svg.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * Number(this.svg.getAttribute("width"));
    if (x < LABEL) return;
    const t = this.xInv(x);
    let best = -1;
    for (let i = 0; i < this.ckTimes.length; i++) {
      if (this.ckTimes[i] !== undefined && this.ckTimes[i] <= t) best = i;
    }
    if (best >= 0) this.session.seek(best);
  }
}
