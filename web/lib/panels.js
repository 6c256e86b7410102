// The panels of the playground. Each one owns a <section>, renders the
// current sim.View (core/sim/view.go) into it, and turns clicks into lines
// of the scenario language sent through session.exec, so that every action
// shows in the console and is recorded in the session's source.
//
// Meaning is never carried by colour alone: every coloured thing (frame
// roles, states, flags) also says what it is in text.

import { LOG_CHUNK, LOG_LIVE, appendChunked, clearChunked, h, replace, reconcile, secs } from "./dom.js";
import { ActionError } from "./notice.js";
import { failure } from "./session.js";
import { checkedFrame, drawFuncStacks, drawPatchStack } from "./stacks.js";

const LP = "/sys/kernel/livepatch";
// Up to this many matching tasks every card is built; beyond it the list
// is virtual: only the cards in (and near) the scrolled-to part exist, with
// padding standing in for the rest.
const ALL_CARDS = 60;
const OVERSCAN_ROWS = 3;

function panel(cls, title, ...rest) {
  const id = `klp-h-${cls}-${Math.random().toString(36).slice(2, 8)}`;
  return h(`section.panel.${cls}`, { "aria-labelledby": id }, h("h2", { id }, title), ...rest);
}

// A badge is followed by a space, so that text extraction (and screen
// readers) see separate words.
function badge(text, cls = "", title = "") {
  return [h("span", { class: `badge ${cls}`, title: title || false }, text), " "];
}

/**
 * A button that sends one scenario line (a slice at a time, so a long one
 * leaves the page answering). What the simulator refuses (a
 * scenario error, or a command's stderr such as an errno from a sysfs
 * write) shows next to the button, until the next command runs.
 */
function act(session, label, line, opts = {}) {
  const key = opts.key || `act:${line}`;
  return h("button", {
    type: "button",
    class: opts.cls || "",
    title: `runs: ${line}`,
    "data-focus": key,
    onclick: async (e) => {
      const btn = e.currentTarget;
      const root = btn.getRootNode();
      // sliced: settle or until on a big machine may take long; a short
      // command still finishes before this returns to the event loop
      const msg = failure(await session.execSliced(line));
      if (!msg) return;
      // the render after exec may have replaced the button
      const at = btn.isConnected ? btn : root.querySelector(`[data-focus="${CSS.escape(key)}"]`);
      if (!at) return;
      const note = h("span.action-error", { role: "alert" }, msg);
      at.after(note);
      session.addEventListener("exec", () => note.remove(), { once: true });
    },
  }, label);
}

function stateName(view, ps) {
  return (view.StateNames && view.StateNames[String(ps)]) || String(ps);
}

// --- CPUs -------------------------------------------------------------------

export class CPUsPanel {
  constructor(session) {
    this.session = session;
    this.list = h("ul.cpus-list");
    this.el = panel("cpus", "CPUs", this.list);
  }

  update(view) {
    const s = this.session;
    replace(this.list, view.CPUs.map((c) => h("li.cpu", { class: c.Online ? "online" : "offline" },
      h("span.name", null, `CPU ${c.ID}`), " ",
      badge(c.Online ? "online" : "offline", c.Online ? "ok" : "off"),
      c.NohzFull ? badge("nohz_full", "info", "no scheduler tick while one task runs") : null, " ",
      h("span.curr", null, c.Online ? (c.Curr ? `runs ${c.CurrComm} (pid ${c.Curr})` : `idle (${c.CurrComm})`) : "—"), " ",
      c.ID === 0 ? null : act(s, c.Online ? "take offline" : "bring online", `cpu ${c.ID} ${c.Online ? "offline" : "online"}`, { cls: "small" }))));
  }
}

// --- transition --------------------------------------------------------------

export class TransitionPanel {
  constructor(session) {
    this.session = session;
    this.body = h("div.body");
    this.el = panel("transition", "Transition", this.body);
  }

  update(view) {
    const s = this.session;
    const t = view.Transition;
    if (!t) {
      replace(this.body, h("p.none", null, "No transition in progress."));
      return;
    }
    const files = new Set(s.ls(`${LP}/${t.Patch}`).map((e) => e.name));
    const inSec = (ns) => (ns < 0 ? "none scheduled" : `in ${Math.max(0, (ns - view.Time) / 1e9).toFixed(3)} s (at ${secs(ns)} s)`);
    const reverse = t.Target === "patching" ? 0 : 1;
    replace(this.body,
      h("p.what", null, h("strong", null, t.Patch), ` is ${t.Target}`, t.Target === "unpatching" ? " (reverting)" : ""),
      h("div.meter", null,
        h("label", { for: this.meterId() }, `${t.Switched}/${t.Total} tasks switched`),
        h("progress", { id: this.meterId(), max: String(Math.max(1, t.Total)), value: String(t.Switched) })),
      h("dl.facts", null,
        h("dt", null, "retries (klp_signals_cnt)"), h("dd", null, String(t.Retries)),
        h("dt", null, "next retry (klp_transition_work)"), h("dd", null, inSec(t.NextRetry)),
        h("dt", null, "next automatic fake signal"), h("dd", null, inSec(t.NextSignal))),
      h("div.actions", null,
        act(s, t.Target === "patching" ? "reverse (disable)" : "reverse (enable)", `echo ${reverse} > ${LP}/${t.Patch}/enabled`),
        files.has("force") ? act(s, "force", `echo 1 > ${LP}/${t.Patch}/force`, { cls: "danger" }) : null,
        files.has("signal") ? act(s, "send fake signals", `echo 1 > ${LP}/${t.Patch}/signal`) : null,
        act(s, "settle", "settle"),
        t.NextSignal >= 0 ? act(s, "until fake signal", "until signal") : act(s, "wait 16 s", "sleep 16")));
  }

  meterId() {
    if (!this._mid) this._mid = `klp-meter-${Math.random().toString(36).slice(2, 8)}`;
    return this._mid;
  }
}

// --- alarms, hazards, warnings ---------------------------------------------

const ALARM_KINDS = new Set(["alarm", "hazard", "warning"]);

export class AlarmsPanel {
  constructor(session) {
    this.session = session;
    this.counts = h("p.counts");
    this.list = h("ul.alarms-list");
    this.live = h("p.sr-only", { "aria-live": "assertive" });
    this.el = panel("alarms", "Alarms, hazards and warnings", this.counts, this.list, this.live);
    this.next = 0;
    this.items = [];
  }

  update(view, rewind) {
    if (rewind) {
      this.next = 0;
      this.items = [];
    }
    const evs = this.session.events(this.next);
    if (evs.length) this.next = evs[evs.length - 1].Seq + 1;
    const fresh = evs.filter((e) => ALARM_KINDS.has(e.Kind));
    this.items.push(...fresh);
    if (this.items.length > 200) this.items.splice(0, this.items.length - 200);
    if (fresh.length && !rewind) this.live.textContent = fresh.map((e) => `${e.Kind}: ${e.Text}`).join(". ");
    const n = (x, one, many) => `${x} ${x === 1 ? one : many}`;
    this.el.classList.toggle("has-alarm", view.Alarms > 0);
    replace(this.counts,
      badge(n(view.Alarms, "alarm", "alarms"), view.Alarms ? "bad" : "ok"), " ",
      badge(n(view.Hazards, "hazard", "hazards"), view.Hazards ? "bad" : "ok"), " ",
      badge(n(view.Warnings, "warning", "warnings"), view.Warnings ? "warn" : "ok"), " ",
      badge(`${view.Syncs} syncs`, "info", "klp_synchronize_transition / synchronize_rcu calls"), " ",
      badge(`${view.NohzTouched} nohz_full disturbances`, "info"), " ",
      badge(view.Reliable ? "reliable stacks" : "unreliable stacks", view.Reliable ? "ok" : "warn"));
    replace(this.list, this.items.length === 0
      ? h("li.none", null, "Nothing yet: the consistency checker raises an alarm when one patch's old and new code run in the same task.")
      : this.items.slice().reverse().map((e) => h("li", { class: `ev-${e.Kind}` },
        h("span.kind", null, e.Kind.toUpperCase()), " ",
        h("span.time", null, `[${secs(e.Time)}]`), " ", e.Text)));
  }
}

// --- tasks -----------------------------------------------------------------

export class TasksPanel {
  constructor(session) {
    this.session = session;
    this.filter = h("input", { type: "search", placeholder: "filter: pid, comm, state, pending…", "aria-label": "Filter tasks" });
    this.filter.addEventListener("input", () => this.update(this.session.view()));
    this.summary = h("p.summary");
    this.list = h("ul.tasks-list");
    this.scroller = h("div.tasks-scroll", null, this.list);
    this.scrollTop = 0; // the scroller's, kept from its events: reading it
    this.viewH = 600; // and its height in an update would force a layout
    this.scroller.addEventListener("scroll", () => {
      this.scrollTop = this.scroller.scrollTop;
      if (this.scrollQueued || !this.virtual) return;
      this.scrollQueued = true;
      requestAnimationFrame(() => {
        this.scrollQueued = false;
        this.update(this.session.view());
      });
    }, { passive: true });
    this.cardH = 150; // measured mean card height (px), for the virtual list
    this.cols = 1; // columns of the card grid, measured after layout
    if (globalThis.ResizeObserver) {
      // read the layout only when it changed, never in the middle of an update
      new ResizeObserver(() => {
        this.cols = Math.max(1, getComputedStyle(this.list).gridTemplateColumns.split(" ").filter(Boolean).length);
        this.viewH = this.scroller.clientHeight || 600;
      }).observe(this.list);
    }
    this.spawn = this.spawnForm();
    this.el = panel("tasks", "Tasks", h("div.toolbar", null, this.filter, this.spawn), this.summary, this.scroller);
    this.open = new Set(); // tasks whose actions are shown
    this.cards = new Map(); // key → {sig, el}: the card of each task as last built
  }

  spawnForm() {
    const s = this.session;
    const comm = h("input", { type: "text", value: "sleeper", size: "8", "aria-label": "New task: command name", required: true });
    const state = h("select", { "aria-label": "New task: state" },
      h("option", { value: "S" }, "sleeping (S)"), h("option", { value: "D" }, "disk sleep (D)"),
      h("option", { value: "runnable" }, "runnable"), h("option", { value: "user" }, "user space"));
    const stack = h("input", { type: "text", size: "24", placeholder: "stack: a>b>c (outermost first)", "aria-label": "New task: kernel stack, outermost first, > means calls" });
    const err = new ActionError();
    const form = h("details.spawn", null, h("summary", null, "Spawn task"),
      h("form", {
        onsubmit: (e) => {
          e.preventDefault();
          const pid = s.nextPid();
          const c = comm.value.trim().replace(/\s+/g, "_") || "task";
          let line = `task ${pid} ${c}`;
          if (state.value === "user") line += " user";
          else line += ` state=${state.value}`;
          const st = stack.value.trim().replace(/\s+/g, "");
          if (st && state.value !== "user") line += ` stack=${st}`;
          err.report(s.exec(line));
        },
      }, comm, state, stack, h("button", { type: "submit" }, "Spawn"), err.el));
    stack.addEventListener("focus", () => {
      // Offer function names as the user types a stack.
      const id = `klp-funcs-${Math.random().toString(36).slice(2, 8)}`;
      if (!stack.getAttribute("list")) {
        const dl = h("datalist", { id }, this.session.names().funcs.map((f) => h("option", { value: f })));
        form.appendChild(dl);
        stack.setAttribute("list", id);
      }
    }, { once: true });
    return form;
  }

  matches(t, q) {
    if (!q) return true;
    const hay = `${t.PID} ${t.Comm} ${t.Kind} ${t.State} ${t.Pending ? "pending" : ""} ${t.Signal ? "signal" : ""} ${t.Blocked || ""} ${t.PatchState}`.toLowerCase();
    return q.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
  }

  update(view) {
    const q = this.filter.value.trim();
    const shown = view.Tasks.filter((t) => this.matches(t, q));
    const users = view.Tasks.filter((t) => t.Kind !== "idle");
    const pending = view.Tasks.filter((t) => t.Pending).length;
    const plural = (n, w) => `${n} ${w}${n === 1 ? "" : "s"}`;
    this.summary.textContent = `${plural(users.length, "task")} + ${view.Tasks.length - users.length} idle; ${pending} with TIF_PATCH_PENDING` +
      (q ? `; ${shown.length} match` : "");
    const win = this.window(shown.length);
    // Cards are rebuilt only when their task changed: while time plays,
    // most tasks stay as they were, and building DOM is the slow part.
    const names = JSON.stringify(view.StateNames);
    const next = new Map();
    const nodes = shown.slice(win.from, win.to).map((t) => {
      const key = t.Kind === "idle" ? `idle${t.CPU}` : String(t.PID);
      const extra = names + (this.open.has(key) ? "+" : "-") + (view.Transition ? view.Transition.Target : "") + (view.CondReschedHook ? "h" : "");
      let c = this.cards.get(key);
      // an unchanged task keeps its object across views (viewdelta.js)
      if (!c || c.t !== t || c.extra !== extra) {
        const sig = JSON.stringify(t) + extra;
        c = c && c.sig === sig ? { ...c, t } : { sig, t, extra, el: this.card(view, t, key) };
      }
      next.set(key, c);
      return c.el;
    });
    this.cards = next;
    reconcile(this.list, nodes);
    this.list.style.paddingTop = `${win.padTop}px`;
    this.list.style.paddingBottom = `${win.padBottom}px`;
    if (this.virtual && nodes.length && !this.measureQueued) {
      // learn the real card height (rows of cols cards) for the padding,
      // at the next frame, when the layout is computed anyway
      this.measureQueued = true;
      requestAnimationFrame(() => {
        this.measureQueued = false;
        const rows = Math.ceil(this.list.childElementCount / this.cols);
        const h = rows ? (this.list.scrollHeight - win.padTop - win.padBottom) / rows : 0;
        if (h > 20) this.cardH = this.cardH * 0.5 + h * 0.5;
      });
    }
  }

  /**
   * Which cards to build: all of them for a short list; for a long one the
   * rows on screen (cards are laid out in cols columns of about cardH px)
   * plus a few, with padding for the rows before and after.
   */
  window(n) {
    this.virtual = n > ALL_CARDS;
    this.el.classList.toggle("virtual", this.virtual);
    if (!this.virtual) return { from: 0, to: n, padTop: 0, padBottom: 0, cols: 1 };
    const cols = this.cols;
    const rows = Math.ceil(n / cols);
    const top = this.scrollTop;
    const height = Math.min(this.viewH, 36 * 16);
    const r0 = Math.max(0, Math.floor(top / this.cardH) - OVERSCAN_ROWS);
    const r1 = Math.min(rows, Math.ceil((top + height) / this.cardH) + OVERSCAN_ROWS);
    return { from: r0 * cols, to: Math.min(n, r1 * cols), padTop: r0 * this.cardH, padBottom: (rows - r1) * this.cardH, cols };
  }

  card(view, t, key) {
    const flags = [];
    if (t.Pending) flags.push(badge("TIF_PATCH_PENDING", "warn", "still has to switch to the target state"));
    if (t.Signal) flags.push(badge("fake signal pending", "info"));
    if (t.InKernel) flags.push(badge("in kernel", "plain"));
    else if (t.Kind === "user") flags.push(badge("in user space", "plain"));
    if (t.Freezable) flags.push(badge("freezable", "plain"));
    if (t.Unreliable) flags.push(badge("unreliable stack", "bad"));
    if (t.NoRCU) flags.push(badge("RCU not watching", "warn"));
    if (t.InHandler) flags.push(badge(`inside klp_ftrace_handler (${t.InHandler})`, "warn", "between the handler's reads: preemption disabled; call-finish makes the rest"));
    if (t.InHook) flags.push(badge(`inside the cond_resched hook (loaded ${t.InHook})`, "warn", "__klp_sched_try_switch loaded klp_target_state for its store; cond_resched-finish checks the stack and stores it"));
    if (t.Forking) flags.push(badge(`forking ${t.Forking}`, "warn", "stopped after dup_task_struct; fork-finish runs klp_copy_process"));
    const ps = t.PatchState;
    const title = t.Kind === "idle" ? `${t.Comm} (idle, CPU ${t.CPU})` : `${t.PID} ${t.Comm}`;
    const open = this.open.has(key);
    return h("li", { class: `task kind-${t.Kind} state-${t.State} ps-${ps < 0 ? "idle" : ps}`, "data-pid": String(t.PID) },
      h("div.head", null,
        h("span.pid", null, title), " ",
        badge(t.Kind, "plain"),
        badge(`${t.State} (${t.Letter})`, `st-${t.State}`),
        t.CPU >= 0 ? badge(`on CPU ${t.CPU}`, "plain") : null,
        badge(`patch_state ${ps} ${stateName(view, ps)}`, ps === 1 ? "new" : ps === 0 ? "old" : "plain"),
        t.TGID && t.TGID !== t.PID ? badge(`thread of ${t.TGID}`, "plain") : null),
      flags.length ? h("div.flags", null, flags) : null,
      t.Blocked ? h("p.blocked", null, h("strong", null, "Blocked: "), t.Blocked) : null,
      t.Waits ? h("p.blocked.waits", null, h("strong", null, "Sleeps in the kernel: "), t.Waits) : null,
      this.stack(view, t),
      t.Kind === "idle" ? null : h("button.disclose", {
        type: "button",
        "aria-expanded": String(open),
        "data-focus": `acts:${key}`,
        onclick: () => {
          if (this.open.has(key)) this.open.delete(key);
          else this.open.add(key);
          this.update(this.session.view());
        },
      }, `Act on ${t.PID}`),
      open ? this.actions(view, t, key) : null);
  }

  stack(view, t) {
    if (!t.Stack || t.Stack.length === 0) return h("p.nostack", null, "no kernel stack");
    const stop = checkedFrame(view, t);
    return h("ol.stack", { "aria-label": `stack of ${t.Comm}, innermost first` }, t.Stack.map((f, i) => h("li", { class: `frame role-${f.Role}${i === stop ? " checked" : ""}`, title: i === stop ? "the stack check stops here" : false },
      h("span.role", null, f.Role), " ",
      h("code", null, f.Text),
      f.Patch ? h("span.by", null, ` from ${f.Patch}`) : null,
      f.Called && f.Called !== f.Func ? h("span.by", null, ` (called as ${f.Called})`) : null)));
  }

  actions(view, t, key) {
    const s = this.session;
    const p = t.PID;
    const call = h("input", { type: "text", size: "14", placeholder: "function", "aria-label": `Function for task ${p} to call`, "data-focus": `call:${key}` });
    // the ftrace handler's reads at once, or stopped half-way (call … split)
    const split = h("select", { "aria-label": `How task ${p}'s ftrace handler runs`, "data-focus": `split:${key}` },
      h("option", { value: "" }, "at once"),
      h("option", { value: "split" }, "stop after the func_stack read"),
      h("option", { value: "split=transition" }, "stop after the transition read"));
    const err = new ActionError();
    const box = h("div.acts", null,
      h("div.buttons", null,
        act(s, "SIGSTOP", `kill -STOP ${p}`, { key: `stop:${key}` }),
        act(s, "SIGCONT", `kill -CONT ${p}`, { key: `cont:${key}` }),
        act(s, "block (S)", `block ${p}`, { key: `block:${key}` }),
        act(s, "wake", `wake ${p}`, { key: `wake:${key}` }),
        act(s, "syscall", `syscall ${p}`, { key: `sys:${key}` }),
        act(s, "sysret", `sysret ${p}`, { key: `sysret:${key}` }),
        act(s, "ret", `ret ${p}`, { key: `ret:${key}` }),
        act(s, "cond_resched", `cond_resched ${p}`, { key: `cr:${key}` }),
        view.CondReschedHook && t.Kind !== "idle" && t.Pending && t.InKernel && t.Letter === "R" && t.CPU >= 0 && !t.InHook && !t.InHandler
          ? act(s, "cond_resched split", `cond_resched ${p} split`, { key: `crs:${key}` }) : null,
        act(s, "exit", `exit ${p}`, { key: `exit:${key}`, cls: "danger" }),
        t.InHandler ? act(s, "call-finish", `call-finish ${p}`, { key: `cfin:${key}` }) : null,
        t.InHook ? act(s, "cond_resched-finish", `cond_resched-finish ${p}`, { key: `crfin:${key}` }) : null,
        t.Forking ? act(s, "fork-finish", `fork-finish ${t.Forking}`, { key: `ffin:${key}` }) : null),
      this.forkForm(t, key, err),
      h("form.call", {
        onsubmit: (e) => {
          e.preventDefault();
          const f = call.value.trim();
          if (f) err.report(s.exec(`call ${p} ${f}${split.value ? " " + split.value : ""}`));
        },
      }, call, h("button", { type: "submit", "data-focus": `callgo:${key}` }, "call"), " ", split),
      err.el);
    call.addEventListener("focus", () => {
      if (call.getAttribute("list")) return;
      const id = `klp-fn-${key}-${Math.random().toString(36).slice(2, 6)}`;
      box.appendChild(h("datalist", { id }, s.names().funcs.map((f) => h("option", { value: f }))));
      call.setAttribute("list", id);
    }, { once: true });
    return box;
  }

  /**
   * fork, with the child's pid and name when the user gives them (a lesson
   * may ask for a particular pid); empty fields let the kernel choose.
   */
  forkForm(t, key, err) {
    const p = t.PID;
    const child = h("input", { type: "number", min: "1", step: "1", placeholder: "next", class: "pid", "aria-label": `Child pid for a fork of ${p} (empty: the next free pid)`, "data-focus": `forkpid:${key}` });
    const comm = h("input", { type: "text", size: "8", placeholder: t.Comm, "aria-label": `Child command name for a fork of ${p} (empty: ${t.Comm})`, "data-focus": `forkcomm:${key}` });
    const thread = h("input", { type: "checkbox", "aria-label": `Fork of ${p} is a thread (same thread group)`, "data-focus": `forkthr:${key}` });
    const dup = h("input", { type: "checkbox", "aria-label": `Fork of ${p} stops after dup_task_struct (needs a child pid)`, "data-focus": `forkdup:${key}` });
    return h("form.fork", {
      onsubmit: (e) => {
        e.preventDefault();
        let line = `fork ${p}`;
        if (child.value.trim()) line += ` child=${child.value.trim()}`;
        const c = comm.value.trim().replace(/\s+/g, "_");
        if (c) line += ` comm=${c}`;
        if (thread.checked) line += " thread";
        if (dup.checked) line += " dup-only";
        err.report(this.session.exec(line));
      },
    }, h("button", { type: "submit", title: `runs: fork ${p} [child=PID] [comm=NAME] [thread] [dup-only]`, "data-focus": `fork:${key}` }, "fork"),
    h("label", null, " as pid ", child), h("label", null, " comm ", comm), h("label", null, thread, " thread"),
    h("label", { title: "stop after dup_task_struct copied the thread flags; fork-finish goes on" }, dup, " dup-only"));
  }
}

// --- patches ---------------------------------------------------------------

export class PatchesPanel {
  constructor(session, builder) {
    this.session = session;
    this.list = h("ul.patches-list");
    this.mods = h("div.modules");
    this.drawn = h("div.pstack", { "aria-hidden": "false" });
    this.el = panel("patches", "Livepatches", this.drawn, this.list, this.mods, builder ? builder.el : null);
  }

  update(view) {
    const s = this.session;
    drawPatchStack(this.drawn, view);
    const patches = view.Patches || [];
    replace(this.list, patches.length === 0
      ? h("li.none", null, "No livepatch loaded.")
      : patches.map((p) => {
        const files = new Set(s.ls(`${LP}/${p.Name}`).map((e) => e.name));
        return h("li.patch", { class: p.Enabled ? "enabled" : "disabled" },
          h("div.head", null,
            h("strong", null, p.Name), " ",
            badge(p.Enabled ? "enabled" : "disabled", p.Enabled ? "ok" : "off"), " ",
            p.Transition ? badge("in transition", "warn") : null,
            p.Forced ? badge("forced", "bad") : null,
            p.Replace ? badge("replace", "info", "atomic replace: cumulative") : null,
            badge(`stack_order ${p.StackOrder}`, "plain")),
          h("ul.objs", null, (p.Objects || []).map((o) => h("li.obj", null,
            h("span", null, `object ${o.Name}`), " ",
            badge(o.Loaded ? "loaded" : "not loaded", o.Loaded ? "plain" : "off"),
            badge(o.Patched ? "patched" : "not patched", o.Patched ? "new" : "old"),
            o.Dynamic ? badge("dynamic (nop)", "plain") : null,
            h("ul.funcs", null, (o.Funcs || []).map((f) => h("li", null,
              h("code", null, f.Old + (f.Sympos ? `,${f.Sympos}` : "")), " → ",
              h("code", null, f.Nop ? "(nop: original)" : f.New), " ",
              f.Patched ? badge("patched", "new") : badge("not patched", "old"),
              f.Transition ? badge("in transition", "warn") : null)))))),
          h("div.actions", null,
            p.Enabled ? act(s, "disable", `echo 0 > ${LP}/${p.Name}/enabled`)
              : act(s, "enable", `echo 1 > ${LP}/${p.Name}/enabled`),
            p.Transition && files.has("force") ? act(s, "force", `echo 1 > ${LP}/${p.Name}/force`, { cls: "danger" }) : null,
            p.Transition && files.has("signal") ? act(s, "signal", `echo 1 > ${LP}/${p.Name}/signal`) : null,
            act(s, "ls", `ls ${LP}/${p.Name}`),
            !p.Enabled && !p.Transition ? act(s, "rmmod", `rmmod ${p.Name}`) : null));
      }));
    const mods = view.Modules || [];
    replace(this.mods, mods.length === 0 ? null : h("div", null,
      h("h3", null, "Modules"),
      h("ul.modlist", null, mods.map((m) => h("li", null,
        h("code", null, m.Name), " ",
        badge(m.Livepatch ? "livepatch" : "module", "plain"), " ",
        badge(m.State, m.State === "live" ? "ok" : "plain"),
        m.Refcnt ? badge(`refcnt ${m.Refcnt}`, "plain") : null, " ",
        m.State === "unloaded" ? act(s, "insmod", `insmod ${m.Name}`) : null,
        m.State === "live" && !m.Livepatch ? act(s, "rmmod", `rmmod ${m.Name}`) : null)))));
  }
}

// --- func_stacks -------------------------------------------------------------

export class FuncStacksPanel {
  constructor(session) {
    this.session = session;
    this.list = h("ul.funcstacks-list");
    this.drawn = h("div.fstacks");
    this.el = panel("funcstacks", "func_stacks (ftrace ops)", this.drawn,
      h("details.aslist", null, h("summary", null, "as a list"), this.list));
  }

  update(view) {
    drawFuncStacks(this.drawn, view);
    const fs = view.FuncStacks || [];
    replace(this.list, fs.length === 0
      ? h("li.none", null, "No function is patched: no ftrace handler is attached.")
      : fs.map((f) => h("li", null,
        h("div", null, h("code", null, f.Func), ` (${f.Object}) — newest first:`),
        h("ol.entries", null,
          f.Entries.map((e, i) => h("li", { class: i === 0 ? "top" : "below" },
            h("span.role", null, i === 0 ? "top" : "older"), " ",
            h("code", null, e.Nop ? "(nop)" : e.New), ` from ${e.Patch}`,
            e.Transition ? badge("in transition", "warn") : null)),
          h("li.orig", null, h("span.role", null, "original"), " ", h("code", null, f.Func))))));
  }
}

// --- kernel log ----------------------------------------------------------------

const LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];
const MAX_LOG = 3000;

// logLine builds one log line by cloning a template: a sweep prints
// thousands of lines at once, and h() per line took most of an update.
let lineTemplate;
function logLine(l) {
  lineTemplate ||= h("div", null, h("span.lvl"), "");
  const d = lineTemplate.cloneNode(true);
  d.className = `line lvl-${l.Level}`;
  d.firstChild.textContent = `<${l.Level}> `;
  d.lastChild.data = l.Dmesg;
  return d;
}

export class LogPanel {
  constructor(session) {
    this.session = session;
    this.level = h("select", { "aria-label": "Show kernel log up to level" },
      LEVELS.map((l) => h("option", { value: l, selected: l === "debug" }, l)));
    this.level.addEventListener("change", () => this.applyFilter());
    this.out = h("div.kernlog", { role: "log", "aria-label": "Kernel log", tabindex: "0" });
    this.note = h("p.small");
    this.el = panel("log", "Kernel log (dmesg)",
      h("label.small", null, "levels up to ", this.level, " (debug shows everything)"), this.note, this.out);
    this.next = 0;
    // Whether the view follows new lines: known from scroll events, so an
    // update never has to read the layout before it writes.
    this.atEnd = true;
    this.out.addEventListener("scroll", () => {
      this.atEnd = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 4;
    }, { passive: true });
  }

  applyFilter() {
    const max = LEVELS.indexOf(this.level.value);
    for (let i = 0; i < LEVELS.length; i++) this.out.classList.toggle(`hide-${LEVELS[i]}`, i > max);
  }

  update(_view, rewind) {
    if (rewind) {
      this.next = 0;
      clearChunked(this.out);
    }
    // The newest lines are fetched now; older new ones (a retry prints a
    // line per blocked task) by sequence number when their block is
    // scrolled to (appendChunked).
    const recent = this.session.log(this.next, LOG_CHUNK * (LOG_LIVE + 1));
    if (recent.length === 0) {
      if (this.next === 0) this.note.textContent = "The kernel log is empty.";
      return;
    }
    const end = recent[recent.length - 1].Seq + 1;
    const from = Math.max(this.next, end - MAX_LOG);
    const first = recent[0].Seq;
    const lines = (i, k) => {
      const seq = from + i;
      const got = seq >= first ? recent.slice(seq - first, seq - first + k) : this.session.logRange(seq, k);
      const nodes = got.map(logLine);
      if (got.length < k) {
        // overwritten meanwhile: the kernel's ring buffer keeps the newest
        nodes.unshift(h("div.line.lvl-info", null, `… ${k - got.length} older lines are no longer in the kernel's ring buffer`));
      }
      return nodes;
    };
    const shown = appendChunked(this.out, end - from, lines, MAX_LOG, this.atEnd || rewind);
    this.next = end;
    this.note.textContent = `${this.next} lines` + (this.next > shown ? ` (the last ${shown} shown)` : "");
  }
}

// --- goals (lessons) ---------------------------------------------------------

export class GoalsPanel {
  constructor(session) {
    this.session = session;
    this.list = h("ul.goals-list");
    this.el = panel("goals", "Goals", this.list);
    this.title = this.el.querySelector("h2");
  }

  update() {
    const g = this.session.goals();
    this.last = g;
    this.el.hidden = g.goals.length === 0;
    const ok = g.goals.filter((x) => x.OK).length;
    this.title.textContent = ok === g.goals.length ? "Goals: all met ✓" : `Goals: ${ok} of ${g.goals.length} met`;
    this.el.classList.toggle("all-met", ok === g.goals.length && ok > 0);
    replace(this.list, g.goals.map((x) => h("li", { class: x.OK ? "ok" : "todo" },
      h("span.mark", null, x.OK ? "✓ done: " : "○ not yet: "), h("code", null, x.Goal),
      x.Reason ? h("span.why", null, ` — ${x.Reason}`) : null)));
  }
}
