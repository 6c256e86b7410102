// <klp-playground>: the livepatch consistency-model playground as one
// custom element. The full playground page (index.html) is this element
// with every panel; lessons embed it with a few.
//
//   <script type="module" src="https://…/widget.js"></script>
//   <klp-playground panels="tasks,transition,console" profile="5.1"
//                   scenario-src="intro.klp"></klp-playground>
//   <klp-playground><template>cpus 2
//   …scenario text…</template></klp-playground>
//
// Attributes: scenario-src (URL, relative to the page), or the scenario as
// a child <template>/<pre>/<code> or plain text; profile (kernel profile
// to run it under); panels (comma list of timeline, cpus, transition, alarms, tasks,
// patches, funcstacks, log, console, goals; default all); history-key
// (localStorage key for the console history); theme (auto|light|dark);
// manual (build the UI but wait for the page to call load()).
//
// All widgets on a page share one wasm instance (lib/runtime.js), each with
// its own session. The element follows the host page's light/dark scheme:
// it inherits color-scheme, and when the page sets none it looks at the
// page's text colour.

import { loadKlp, base } from "./lib/runtime.js";
import { Session, SPEEDS } from "./lib/session.js";
import { h, replace, secs } from "./lib/dom.js";
import { Console } from "./lib/console.js";
import { LivepatchBuilder } from "./lib/builder.js";
import { CPUsPanel, TransitionPanel, AlarmsPanel, TasksPanel, PatchesPanel, FuncStacksPanel, LogPanel, GoalsPanel } from "./lib/panels.js";
import { enhance } from "./lib/lessons.js";
import { Timeline } from "./lib/timeline.js";
import { afterFrame, firstPaintData, FrozenSession } from "./lib/firstpaint.js";

/** Throws what is wrong with scenario text handed to load or open. */
function checkText(text) {
  if (typeof text !== "string") throw new TypeError("scenario text must be a string");
  if (text.length > MAX_SCENARIO) throw new Error(`scenario too large (${text.length} bytes)`);
}

const MAX_SCENARIO = 1 << 20;

let uid = 0;

// The "Until…" menu: what to wait for, and the scenario line that does it.
const UNTIL = [
  ["a task switches", "until switch"],
  ["a fake signal", "until signal"],
  ["the next try-complete sweep", 'until step "klp_try_complete_transition"'],
  ["the transition completes", "until switch reason=complete"],
  ["a wait ends (a grace period, a sleeping shell)", "until wait wait=end"],
  ["a callback runs", "until callback"],
  ["a checker alarm", "until alarm"],
];

// Tier up the wasm's hot paths while the user reads (wasm-notes §4): once
// per page, since widgets share one instance, and only after the first
// paint, when the page is idle, because it holds the main thread for tens
// of milliseconds.
let warmupScheduled = false;
function scheduleWarmup(api) {
  if (warmupScheduled) return;
  warmupScheduled = true;
  const run = () => {
    try {
      api.warmup(2);
    } catch {
      // warm-up is an optimisation only
    }
  };
  requestAnimationFrame(() => {
    if (globalThis.requestIdleCallback) requestIdleCallback(run, { timeout: 2000 });
    else setTimeout(run, 0);
  });
}

export class KlpPlayground extends HTMLElement {
  static get observedAttributes() {
    return ["theme"];
  }

  constructor() {
    super();
    this.uid = ++uid;
    this.root = this.attachShadow({ mode: "open" });
    this.session = null;
    this._ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this._ready.catch(() => {}); // reported in the element; callers may await
    this.stepSize = "1s";
  }

  /**
   * Resolves once the first scenario runs and the widget's stylesheet has
   * loaded, so that its size is the final one (rejects if it cannot run).
   */
  get ready() {
    return this._ready;
  }

  connectedCallback() {
    if (!this.frame) {
      const css = h("link", { rel: "stylesheet", href: new URL("widget.css", base).href });
      // An error (a CSP that blocks it, say) leaves the widget unstyled but
      // working: it must not hold `ready` back.
      this._styled = new Promise((resolve) => {
        css.addEventListener("load", resolve, { once: true });
        css.addEventListener("error", resolve, { once: true });
      });
      this.frame = h("div.klp", { role: "group", "aria-label": "Livepatch playground" });
      this.root.append(css, this.frame);
      this.themeQuery = matchMedia("(prefers-color-scheme: dark)");
      this.themeQuery.addEventListener("change", () => this.applyTheme());
    }
    this.applyTheme();
    if (!this._started) {
      this._started = true;
      this.start();
    }
  }

  disconnectedCallback() {
    if (this.session) this.session.pause();
    // Moving the element fires disconnect and connect in one task; only a
    // removal that lasts frees the machine in the wasm (instances are
    // bounded). Connecting it again later starts over.
    queueMicrotask(() => {
      if (this.isConnected || !this.session) return;
      this.session.destroy();
      this.session = null;
      this._started = false;
    });
  }

  attributeChangedCallback() {
    if (this.frame) this.applyTheme();
  }

  applyTheme() {
    const t = this.getAttribute("theme") || "auto";
    let dark = t === "dark";
    if (t === "auto") {
      const cs = getComputedStyle(this);
      const scheme = cs.colorScheme || "normal";
      if (scheme === "normal") {
        // The page declares no scheme: judge by its text colour.
        const m = /rgba?\((\d+), (\d+), (\d+)/.exec(cs.color);
        dark = m ? (0.2126 * m[1] + 0.7152 * m[2] + 0.0722 * m[3]) / 255 > 0.6 : false;
      } else {
        dark = scheme.includes("dark") && (!scheme.includes("light") || this.themeQuery?.matches || matchMedia("(prefers-color-scheme: dark)").matches);
      }
    }
    this.frame.classList.toggle("theme-dark", dark);
    this.frame.classList.toggle("theme-light", !dark);
  }

  panels() {
    const p = (this.getAttribute("panels") || "all").split(",").map((x) => x.trim()).filter(Boolean);
    const all = this.api.panels();
    return p.includes("all") ? all : all.filter((x) => p.includes(x));
  }

  /** The scenario given in the markup (static fallback text). */
  inlineScenario() {
    // Lesson markup (lessons/README.md): pre.klp-fallback holds the
    // scenario; other <pre>s hold the reference solution.
    const lesson = this.querySelector("pre.klp-fallback");
    if (lesson) return lesson.textContent;
    const t = this.querySelector("template");
    if (t) return t.content.textContent;
    const pre = this.querySelector("pre, code");
    if (pre) return pre.textContent;
    // not the first-paint data block (lib/firstpaint.js)
    return [...this.childNodes].filter((n) => n.nodeName !== "SCRIPT").map((n) => n.textContent).join("");
  }

  async scenarioText() {
    const src = this.getAttribute("scenario-src");
    if (src) {
      const resp = await fetch(new URL(src, document.baseURI));
      if (!resp.ok) throw new Error(`scenario-src ${src}: HTTP ${resp.status}`);
      return resp.text();
    }
    const text = this.inlineScenario().replace(/^\n/, "");
    if (text.trim()) return text;
    const resp = await fetch(new URL("examples/default.klp", base));
    if (!resp.ok) throw new Error(`default scenario: HTTP ${resp.status}`);
    return resp.text();
  }

  async start() {
    const manual = this.hasAttribute("manual");
    const fallback = manual ? "" : this.inlineScenario().trim();
    const first = firstPaintData(this);
    // (a share link in the URL: the page will load that, not the first example)
    let drawn = null;
    if (first && !(manual && /[#&]s=/.test(location.hash))) {
      this.showFirst(first);
      drawn = afterFrame();
    } else {
      replace(this.frame, h("p.loading", { role: "status" }, "Loading the simulator…"),
        fallback ? h("pre.fallback", null, fallback) : null);
    }
    let api;
    let text = "";
    try {
      [api, text] = await Promise.all([drawn ? drawn.then(loadKlp) : loadKlp(), manual ? "" : this.scenarioText()]);
    } catch (e) {
      replace(this.frame, h("p.error", { role: "alert" }, `The simulator could not start: ${e.message}`),
        fallback ? h("pre.fallback", null, fallback) : null);
      this._reject(e);
      return;
    }
    this.api = api;
    this.build();
    if (this.frozen) this.waiting(true);
    addEventListener("klp-exit", () => this.showError("The simulator stopped unexpectedly; reload the page."));
    if (!manual) {
      // The manual attribute leaves the first load() to the page (the
      // playground page picks a share link or an example first).
      try {
        this.load(this.withProfile(text, this.getAttribute("profile")), { quiet: true });
      } catch (e) {
        this.showError(e.message);
        this._reject(e);
        return;
      }
    }
    this._styled.then(() => this._resolve(this));
    scheduleWarmup(api);
  }

  /**
   * Draws the first-paint data (cmd/build's run of the starting scenario)
   * with the live panels over a FrozenSession, before the wasm is ready.
   */
  showFirst(data) {
    // the few bridge calls building the UI needs, answered from the data
    this.api = { profiles: () => [data.View.Profile], panels: () => data.Panels || [] };
    this.build();
    this.frozen = true;
    this.session = new FrozenSession(data);
    this.console.attach(this.session);
    this.mountPanels();
    this.render(true);
    this.waiting(true);
  }

  /**
   * While the drawn state waits for the simulator its controls are inert,
   * and a note says so.
   */
  waiting(on) {
    this.frame.classList.toggle("waiting", on);
    for (const el of [this.timebar, this.grid]) if (el) el.inert = on;
    if (on && !this.waitNote) {
      this.waitNote = h("p.loading.waitnote", { role: "status" }, "The simulator is loading: this is the starting state, and the controls come alive in a moment.");
    }
    if (this.waitNote) {
      if (on) this.frame.prepend(this.waitNote);
      else this.waitNote.remove();
    }
  }

  // --- layout --------------------------------------------------------------

  /** Opens the Until… menu and focuses its first entry. */
  openUntil() {
    this.untilMenu.hidden = false;
    this.untilBtn.setAttribute("aria-expanded", "true");
    this.untilMenu.querySelector("button").focus();
  }

  closeUntil() {
    this.untilMenu.hidden = true;
    this.untilBtn.setAttribute("aria-expanded", "false");
  }

  build() {
    const want = new Set(this.panels());
    this.errorBox = h("div.error", { role: "alert", hidden: true });
    this.statusEl = h("div.status");
    this.profileSel = h("select", { "aria-label": "Kernel profile", "data-focus": "profile" },
      this.api.profiles().map((p) => h("option", { value: p }, p)));
    this.profileSel.addEventListener("change", () => this.setProfile(this.profileSel.value));
    this.diffs = h("details.diffs");

    this.playBtn = h("button", { type: "button", "aria-pressed": "false", onclick: () => this.session.togglePlay(), title: "Play/pause simulated time (Space)" }, "Play");
    this.speedSel = h("select", { "aria-label": "Speed: simulated seconds per real second" },
      SPEEDS.map((s) => h("option", { value: String(s), selected: s === 1 }, `${s}×`)));
    this.speedSel.addEventListener("change", () => (this.session.speed = Number(this.speedSel.value)));
    this.stepSel = h("select", { "aria-label": "Step size" },
      h("option", { value: "1j" }, "1 jiffy"), h("option", { value: "0.1s" }, "0.1 s"), h("option", { value: "1s", selected: true }, "1 s"));
    this.stepSel.addEventListener("change", () => (this.stepSize = this.stepSel.value));
    this.slider = h("input", { type: "range", min: "0", max: "0", value: "0", step: "1", "aria-label": "Timeline" });
    this.slider.addEventListener("input", () => this.session.seek(Number(this.slider.value)));
    this.undoBtn = h("button", { type: "button", onclick: () => this.session.undo(), title: "Back one step ([ or ←)" }, "◀ Undo");
    this.redoBtn = h("button", { type: "button", onclick: () => this.session.redo(), title: "Forward one step (] or →)" }, "Redo ▶");
    this.forkBtn = h("button", { type: "button", onclick: () => this.session.fork(), title: "Drop the later steps and go on from here (f)" }, "Fork from here");
    this.timeLabel = h("span.timelabel", { "aria-live": "polite" });
    // Runs time to the next event of a kind (the scenario's `until`). A
    // disclosure of buttons rather than a <select>: arrow keys on a
    // select would run one the moment they move over it.
    const menuId = `klp-until-${++uid}`;
    this.untilMenu = h("div.untilmenu", { id: menuId, role: "group", "aria-label": "Run until", hidden: true },
      UNTIL.map(([label, line]) => h("button", {
        type: "button",
        title: line,
        onclick: () => {
          this.closeUntil();
          this.session.execSliced(line); // up to 60 s of simulated time
        },
      }, label)));
    this.untilBtn = h("button.disclose", {
      type: "button",
      "aria-expanded": "false",
      "aria-controls": menuId,
      title: "Run simulated time until the next event of a kind, at most 60 s (u)",
      onclick: () => (this.untilMenu.hidden ? this.openUntil() : this.closeUntil()),
    }, "Until…");
    this.untilMenu.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        this.closeUntil();
        this.untilBtn.focus();
      }
    });
    const until = h("div.until", null, this.untilBtn, this.untilMenu);
    // Leaving the menu (Tab, a click elsewhere) closes it.
    until.addEventListener("focusout", (e) => {
      if (!until.contains(e.relatedTarget)) this.closeUntil();
    });

    const timebar = this.timebar = h("div.timebar", { role: "toolbar", "aria-label": "Simulated time" },
      h("div.group", null,
        h("button", { type: "button", onclick: () => this.step(), title: "Advance simulated time by one step (.)" }, "Step"),
        this.stepSel, this.playBtn, this.speedSel,
        h("button", { type: "button", onclick: () => this.session.execSliced("settle"), title: "Run until no transition is in progress (s)" }, "Settle"),
        until),
      h("div.group.timeline", null, this.undoBtn, this.slider, this.redoBtn, this.forkBtn, this.timeLabel));

    const restart = h("button", { type: "button", onclick: () => this.session.seek(0), title: "Back to the start of the scenario (later steps stay until you act)" }, "Restart");
    this.undoBtn.before(restart);
    this.restartBtn = restart;

    // kept across the rebuild that follows the first paint: a line typed
    // while the simulator loads is queued there and runs once it is live
    this.console = this.console || new Console({ historyKey: this.getAttribute("history-key") || "" });
    this.builderFor = want.has("patches");
    const grid = h("div.grid");
    // the first paint stays drawn until a session replaces it
    if (this.frozen && this.grid) grid.replaceChildren(...this.grid.childNodes);
    this.panelDefs = want;
    // replaceChildren would turn a missing solution (null) into the text
    // "null", so it is left out rather than passed.
    const solution = this.solution();
    this.frame.replaceChildren(
      h("div.topbar", null, this.statusEl, h("label.profile", null, "kernel ", this.profileSel), this.diffs),
      this.errorBox, timebar, grid, ...(solution ? [solution] : []));
    this.grid = grid;
  }

  /**
   * A lesson step carries its reference solution (pre.klp-solution-text,
   * one console line per line); offer to show and run it.
   */
  solution() {
    const pre = this.querySelector("pre.klp-solution-text");
    if (!pre) return null;
    const lines = pre.textContent.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    return h("details.solution", null,
      h("summary", null, "Reference solution"),
      h("pre", null, lines.join("\n")),
      h("button", {
        type: "button",
        // through the console's queue: a click while the simulator is
        // still loading runs the lines once it is live
        onclick: async () => {
          for (const l of lines) {
            const r = await this.console.run(l);
            if (r.error) break;
          }
        },
      }, "Run it"));
  }

  /** Creates the panels for the current session. */
  mountPanels() {
    const s = this.session;
    const want = this.panelDefs;
    const list = [];
    const add = (name, p) => {
      if (want.has(name)) list.push(p);
    };
    add("timeline", new Timeline(s));
    add("cpus", new CPUsPanel(s));
    add("transition", new TransitionPanel(s));
    add("alarms", new AlarmsPanel(s));
    add("goals", new GoalsPanel(s));
    add("tasks", new TasksPanel(s));
    if (want.has("patches")) {
      // one form for the widget's life, like the console: what a reader
      // typed into it survives a new session (a kernel profile switch)
      this.builder = this.builder || new LivepatchBuilder(s, this.console);
      if (this.builder.session !== s) this.builder.error.clear(); // about the old machine
      this.builder.session = s;
    }
    add("patches", new PatchesPanel(s, this.builder));
    add("funcstacks", new FuncStacksPanel(s));
    add("log", new LogPanel(s));
    this.views = list;
    this.nameRegions(list.map((p) => p.el).concat(want.has("console") ? [this.console.el] : []));
    // The console and the log go in a side pane that stays in view
    // however long the rest grows (stacked below it on narrow widgets).
    const side = list.filter((p) => p instanceof LogPanel).map((p) => p.el);
    if (want.has("console")) side.push(this.console.el);
    const main = list.filter((p) => !(p instanceof LogPanel)).map((p) => p.el);
    this.grid.classList.toggle("split", side.length > 0 && main.length > 0);
    this.grid.replaceChildren(h("div.main", null, main), side.length ? h("div.side", null, side) : null);
  }

  /**
   * A page with several widgets (a lesson) has several "Transition"
   * regions: with a label attribute ("Step 2"; a lesson's widgets get one
   * from data-step), each panel's accessible name starts with it, read
   * through aria-labelledby so that a heading that changes ("Goals: 2 of 4
   * met") still names it.
   */
  nameRegions(els) {
    const label = this.getAttribute("label") || (this.dataset.step ? `Step ${this.dataset.step}` : "");
    if (!label) return;
    this.labelEl = this.labelEl || h("span.sr-only", { id: `klp-w${this.uid}-label` });
    // (a rebuild of the frame drops it)
    if (this.labelEl.parentNode !== this.frame) this.frame.append(this.labelEl);
    this.labelEl.textContent = label;
    for (const el of els) {
      const head = el.querySelector(":scope > h2[id]");
      if (head) {
        el.setAttribute("aria-labelledby", `${this.labelEl.id} ${head.id}`);
      } else if (el.hasAttribute("aria-label")) {
        // the console keeps one element for the widget's life
        el.dataset.name = el.dataset.name || el.getAttribute("aria-label");
        el.setAttribute("aria-label", `${label} ${el.dataset.name}`);
      }
    }
  }

  // --- sessions --------------------------------------------------------------

  /**
   * Replaces the machine with a new scenario. Throws the scenario error
   * (with line:column) and keeps the old machine if the text is bad.
   */
  load(text, opts = {}) {
    if (!opts.session) checkText(text);
    // opts.session: a session made elsewhere (a branch of this one)
    const next = opts.session || new Session(this.api, text);
    if (this.session) this.session.destroy();
    this.session = next;
    if (this.frozen) {
      this.frozen = false;
      this.waiting(false);
    }
    this.console.attach(next);
    next.addEventListener("change", (e) => this.render(e.detail.rewind));
    this.mountPanels();
    const v = next.view();
    if (![...this.profileSel.options].some((o) => o.value === v.Profile)) {
      // a version between the presets, e.g. "kernel 5.10"
      this.profileSel.appendChild(h("option", { value: v.Profile }, v.Profile));
    }
    this.profileSel.value = v.Profile;
    this.console.write("note", `loaded a scenario (kernel ${v.Profile}, ${v.Tasks.length} tasks)`);
    for (const o of next.startOutput) if (o.kind !== "log") this.console.write(o.kind, o.text, o.level);
    this.hideError();
    this.render(true);
    if (!opts.quiet) this.dispatchEvent(new CustomEvent("klp-load", { bubbles: true, composed: true }));
    return next;
  }

  /**
   * load(), but the scenario runs a slice at a time between frames
   * (Session.open), so a big one never freezes the page; meanwhile the
   * current machine stays shown and usable, and a note with a Cancel
   * button tells how far it got. A newer open() cancels an older one.
   * Resolves to the new session; rejects with the scenario error (the old
   * machine kept), or an AbortError when cancelled.
   */
  async open(text, opts = {}) {
    checkText(text);
    this.opening?.abort();
    const ctl = (this.opening = new AbortController());
    let note = null;
    const progress = ({ started, total }) => {
      if (!note) {
        note = h("p.loading.loadnote", { role: "status" },
          h("span", null, ""), " ", h("progress", { max: 1, value: 0 }), " ",
          h("button", { type: "button", onclick: () => ctl.abort(new DOMException("loading cancelled", "AbortError")) }, "Cancel"));
        this.frame.prepend(note);
      }
      note.firstChild.textContent = `Running the scenario: statement ${started} of ${total}…`;
      const bar = note.querySelector("progress");
      bar.max = total;
      bar.value = started;
      note.dataset.started = started;
    };
    try {
      const next = await Session.open(this.api, text, { onProgress: progress, signal: ctl.signal });
      return this.load(null, { ...opts, session: next });
    } finally {
      note?.remove();
      if (this.opening === ctl) this.opening = null;
    }
  }

  source() {
    return this.session ? this.session.source() : "";
  }

  /** The source a share link carries (runs of ticks merged). */
  shareSource() {
    return this.session ? this.session.shareSource() : "";
  }

  /** The scenario with its kernel line set to profile (none: as it is). */
  withProfile(text, profile) {
    return profile ? this.api.withProfile(text, profile) : text;
  }

  async setProfile(p) {
    const old = this.session.view().Profile;
    try {
      // The timeline comes along: each step replayed under the new profile.
      const b = await this.session.branch((text) => this.withProfile(text, p));
      this.load(null, { session: b.session });
      this.console.write("note", `kernel profile ${old} → ${p}: the session was replayed under the new profile, its timeline too (${b.steps} steps)`);
      if (b.failed) {
        this.showError(`Kernel ${p} stops the timeline at step ${b.failed.index} (${b.failed.label}): ${b.failed.error}. The steps before it are kept.`);
      }
    } catch (e) {
      this.profileSel.value = old;
      this.showError(`Could not switch to kernel ${p}: ${e.message}`);
    }
  }

  step() {
    const hz = this.session.view().HZ;
    const n = this.stepSize === "1j" ? 1 : this.stepSize === "0.1s" ? Math.max(1, Math.round(hz / 10)) : hz;
    this.session.step(n);
  }

  showError(msg) {
    if (!this.errorBox) return;
    this.errorBox.textContent = msg;
    this.errorBox.hidden = false;
  }

  hideError() {
    if (this.errorBox) this.errorBox.hidden = true;
  }

  // --- rendering ---------------------------------------------------------------

  render(rewind) {
    const s = this.session;
    let v;
    try {
      v = s.view();
    } catch (e) {
      this.showError(e.message);
      return;
    }
    this.renderStatus(v);
    this.renderTime();
    for (const p of this.views) {
      try {
        p.update(v, rewind);
      } catch (e) {
        // One broken panel must not take the others down.
        this.showError(`${p.constructor.name}: ${e.message}`);
      }
    }
    if (this.frozen) return; // nothing has happened yet: the first paint
    this.dispatchEvent(new CustomEvent("klp-change", { bubbles: true, composed: true }));
    const goals = this.views.find((p) => p instanceof GoalsPanel);
    if (goals && goals.last && goals.last.goals.length) {
      // Lessons listen for this to say "done" and move on.
      const all = goals.last.goals.every((x) => x.OK);
      this.dispatchEvent(new CustomEvent("klp-goals", { bubbles: true, composed: true, detail: { goals: goals.last.goals, done: all } }));
    }
  }

  renderStatus(v) {
    replace(this.statusEl,
      h("span.clock", null, h("strong", null, `t = ${secs(v.Time)} s`), " simulated"),
      h("span", null, ` · jiffies ${v.Jiffies} · HZ ${v.HZ} · ${v.CPUs.length} CPUs · seed ${v.Seed}`),
      h("span.simnote", null, " · time, signals and CPUs here are simulated"));
    const d = v.Differences || [];
    replace(this.diffs,
      h("summary", null, d.length ? `${d.length} differences from the newest kernel` : "newest kernel behaviour"),
      d.length ? h("ul", null, d.map((x) => h("li", null, x))) : h("p", null, `Kernel ${v.Profile} behaves as the newest profile.`));
  }

  renderTime() {
    const s = this.session;
    const hist = s.history();
    this.slider.max = String(Math.max(0, hist.count - 1));
    this.slider.value = String(Math.max(0, hist.pos));
    const label = `step ${hist.pos} of ${hist.count - 1}: ${hist.labels[hist.pos] || ""}`;
    this.slider.setAttribute("aria-valuetext", label);
    this.timeLabel.textContent = label;
    this.undoBtn.disabled = hist.pos <= 0;
    this.restartBtn.disabled = hist.pos <= 0;
    this.redoBtn.disabled = hist.pos >= hist.count - 1;
    this.forkBtn.disabled = hist.pos >= hist.count - 1;
    this.playBtn.textContent = s.playing ? "Pause" : "Play";
    this.playBtn.setAttribute("aria-pressed", String(s.playing));
  }
}

if (!customElements.get("klp-playground")) customElements.define("klp-playground", KlpPlayground);

// Lesson pages load only this script; give them progress and hints.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => enhance());
else enhance();
