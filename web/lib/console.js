// The console: a transcript of everything executed (typed here or sent by
// a button) and an input line for the scenario language and the shell.
// ↑/↓ walk the history, Tab completes verbs, pids, functions, modules and
// paths, Enter runs, Shift+Enter adds a line (for livepatch blocks).

import { appendCapped, h } from "./dom.js";

const MAX_ENTRIES = 2000; // transcript lines kept in the DOM
// Kernel log lines shown per play tick. A sweep over thousands of tasks
// logs a line for each blocked one; the Kernel log panel has them all.
const MAX_PLAY_LOG = 50;

const PID_VERBS = new Set(["call", "ret", "block", "wake", "run", "syscall", "sysret", "fork", "exit",
  "cond_resched", "ptrace", "unreliable", "norcu"]);
const MOD_VERBS = new Set(["insmod", "modprobe", "rmmod"]);
const SECOND_WORDS = {
  kill: ["-STOP", "-CONT", "-KILL"],
  dmesg: ["-C", "-c", "-l"],
  ls: ["-l", "/sys/kernel/livepatch/", "/proc/"],
  cat: ["/sys/kernel/livepatch/", "/proc/"],
  echo: ["1", "0", "-n"],
  arch: ["unreliable-stacks", "reliable-stacks"],
  hz: ["100", "250", "300", "1000"],
};
const THIRD_WORDS = {
  ptrace: ["attach", "detach"],
  unreliable: ["on", "off"],
  norcu: ["on", "off"],
  cpu: ["online", "offline"],
  block: ["S", "D", "freezable"],
  run: ["cpu="],
  fork: ["child=", "comm=", "thread"],
};

export class Console {
  /**
   * @param session the Session; @param opts.historyKey localStorage key
   * for the input history (omit for none).
   */
  constructor(opts = {}) {
    this.historyKey = opts.historyKey || "";
    this.history = [];
    if (this.historyKey) {
      try {
        const saved = JSON.parse(localStorage.getItem(this.historyKey) || "[]");
        if (Array.isArray(saved)) this.history = saved.filter((x) => typeof x === "string").slice(-200);
      } catch {
        // private mode or a corrupt entry: start empty
      }
    }
    this.hpos = this.history.length;
    this.draft = "";
    this.lastTick = null; // the entry play() coalesces into

    this.out = h("div.transcript", { role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Console output", tabindex: "0" });
    this.input = h("textarea.cmd", {
      rows: "1",
      spellcheck: "false",
      autocomplete: "off",
      autocapitalize: "off",
      "aria-label": "Console input: a scenario line or a shell command",
      placeholder: "type a command, e.g. cat /proc/42/patch_state   (Tab completes, ↑ history)",
      onkeydown: (e) => this.onKey(e),
      oninput: () => this.autosize(),
    });
    this.showLog = h("input", { type: "checkbox", checked: true, "aria-label": "Show kernel log lines in the console" });
    this.el = h("section.panel.console", { "aria-label": "Console" },
      h("h2", null, "Console"),
      this.out,
      h("div.prompt-row", null,
        h("span.prompt", { "aria-hidden": "true" }, "#"),
        this.input,
        h("button", { type: "button", onclick: () => this.submit(), title: "Run (Enter)" }, "Run")),
      h("label.small", null, this.showLog, " kernel log lines in the transcript"));
    this.showLog.addEventListener("change", () => this.out.classList.toggle("hide-log", !this.showLog.checked));
  }

  attach(session) {
    this.session = session;
    this.lastTick = null;
    session.addEventListener("exec", (e) => this.record(e.detail));
  }

  autosize() {
    const n = Math.min(12, this.input.value.split("\n").length);
    this.input.rows = n;
  }

  focus() {
    this.input.focus();
  }

  /** Puts text into the input for review (the livepatch form uses it). */
  insert(text) {
    this.input.value = text;
    this.autosize();
    this.input.focus();
  }

  /** Appends one line to the transcript and returns its element. */
  write(kind, text, level) {
    const el = this.line(kind, text, level);
    this.add([el]);
    return el;
  }

  /** Builds a transcript line (not yet in the document). */
  line(kind, text, level) {
    const cls = `line k-${kind}` + (level ? ` lvl-${level}` : "");
    const el = h("div", { class: cls });
    if (kind === "stderr") el.appendChild(h("span.tag", null, "error: "));
    if (kind === "fail") el.appendChild(h("span.tag", null, "FAIL "));
    if (kind === "pass") el.appendChild(h("span.tag", null, "PASS "));
    el.appendChild(document.createTextNode(text));
    return el;
  }

  /** Appends lines to the transcript (see appendCapped). */
  add(nodes) {
    appendCapped(this.out, nodes, MAX_ENTRIES);
  }

  record({ line, output, error, from }) {
    const trimmed = line.trim();
    const lines = [];
    const out = (kind, text, level) => {
      const el = this.line(kind, text, level);
      lines.push(el);
      return el;
    };
    if (from === "play") {
      // Playing sends a tick every 100 ms; one growing entry says so
      // instead of hundreds of identical lines.
      const n = Number(/^tick (\d+)$/.exec(trimmed)?.[1] || 1);
      // Log lines may come between the ticks; the entry stays where the
      // playing started.
      if (this.lastTick && this.lastTick.el.isConnected) {
        this.lastTick.total += n;
        this.lastTick.count++;
        this.lastTick.el.textContent = `tick ${n}   (playing: ×${this.lastTick.count}, ${this.lastTick.total} jiffies)`;
      } else {
        const el = out("in", `tick ${n}`);
        el.dataset.from = "play";
        this.lastTick = { el, total: n, count: 1 };
      }
      let logged = 0;
      for (const o of output) {
        if (o.kind === "cmd") continue;
        if (o.kind === "log" && ++logged > MAX_PLAY_LOG) continue;
        out(o.kind, o.text, o.level);
      }
      if (logged > MAX_PLAY_LOG) {
        out("log", `… and ${logged - MAX_PLAY_LOG} more kernel log lines in this tick (the Kernel log panel has them)`, "info");
      }
      if (error) out("error", error);
      this.add(lines);
      return;
    }
    this.lastTick = null;
    if (trimmed) {
      const el = out("in", trimmed);
      el.dataset.from = from;
    }
    const single = !trimmed.includes("\n");
    for (const o of output) {
      // The core echoes shell commands and actions as "# line"; the input
      // is already shown.
      if (o.kind === "cmd" && single && o.text === `# ${trimmed}`) continue;
      out(o.kind, o.text, o.level);
    }
    if (error) out("error", error);
    this.add(lines);
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) return;
    if (this.history[this.history.length - 1] !== text) this.history.push(text);
    if (this.history.length > 200) this.history.shift();
    this.hpos = this.history.length;
    this.draft = "";
    if (this.historyKey) {
      try {
        localStorage.setItem(this.historyKey, JSON.stringify(this.history));
      } catch {
        // storage full or denied: history stays in memory
      }
    }
    this.input.value = "";
    this.autosize();
    try {
      this.session.exec(text, { from: "console" });
    } catch (e) {
      this.write("error", e.message);
    }
  }

  onKey(e) {
    const ta = this.input;
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      this.submit();
    } else if (e.key === "ArrowUp" && !ta.value.slice(0, ta.selectionStart).includes("\n")) {
      if (this.hpos === this.history.length) this.draft = ta.value;
      if (this.hpos > 0) {
        this.hpos--;
        ta.value = this.history[this.hpos];
        this.autosize();
        e.preventDefault();
      }
    } else if (e.key === "ArrowDown" && !ta.value.slice(ta.selectionEnd).includes("\n")) {
      if (this.hpos < this.history.length) {
        this.hpos++;
        ta.value = this.hpos === this.history.length ? this.draft : this.history[this.hpos];
        this.autosize();
        e.preventDefault();
      }
    } else if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.altKey) {
      // Tab completes only when there is something to complete, so an
      // empty prompt still lets keyboard users tab out of the console.
      if (ta.value.trim() === "" || ta.selectionStart !== ta.selectionEnd) return;
      e.preventDefault();
      this.complete();
    } else if (e.key === "Escape") {
      ta.blur();
    }
  }

  complete() {
    const ta = this.input;
    const caret = ta.selectionStart;
    const before = ta.value.slice(0, caret);
    const lineStart = before.lastIndexOf("\n") + 1;
    const line = before.slice(lineStart);
    const words = line.split(/\s+/);
    const word = words[words.length - 1];
    const prev = words.slice(0, -1).filter(Boolean);
    const { cands, prefix } = this.candidates(prev, word);
    const matches = [...new Set(cands.filter((c) => c.startsWith(prefix)))].sort();
    if (matches.length === 0) return;
    const common = matches.reduce((a, b) => {
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return a.slice(0, i);
    });
    let insert = common.slice(prefix.length);
    if (matches.length === 1 && !common.endsWith("/") && !common.endsWith("=")) insert += " ";
    if (insert) {
      ta.setRangeText(insert, caret, caret, "end");
      this.autosize();
    } else {
      this.write("note", matches.slice(0, 60).join("  ") + (matches.length > 60 ? `  … (${matches.length})` : ""));
    }
  }

  /** What may stand at this word, given the words before it. */
  candidates(prev, word) {
    const n = this.session.names();
    const pids = n.pids.map(String);
    if (word.startsWith("/") || word.startsWith(">/")) {
      const w = word.replace(/^>/, "");
      const dir = w.slice(0, w.lastIndexOf("/") + 1) || "/";
      let ents = [];
      try {
        ents = this.session.ls(dir);
      } catch {
        ents = [];
      }
      return { cands: ents.map((e) => dir + e.name + (e.dir ? "/" : "")), prefix: w };
    }
    const verb = prev[0];
    if (!verb) return { cands: n.verbs, prefix: word };
    if (prev.length === 1) {
      if (PID_VERBS.has(verb)) return { cands: pids, prefix: word };
      if (MOD_VERBS.has(verb)) return { cands: n.modules, prefix: word };
      if (verb === "kernel") return { cands: n.profiles, prefix: word };
      if (verb === "cpu") return { cands: this.session.view().CPUs.map((c) => String(c.ID)), prefix: word };
      if (verb === "expect" || verb === "goal") return { cands: n.expect || [], prefix: word };
      if (verb === "until") return { cands: n.events || [], prefix: word };
      if (SECOND_WORDS[verb]) return { cands: SECOND_WORDS[verb], prefix: word };
    }
    if (verb === "kill" && prev.length >= 2) return { cands: pids, prefix: word };
    if (verb === "until") return { cands: ["within="], prefix: word };
    if (verb === "call" || verb === "vmlinux" || verb === "task" || verb === "idle") {
      const eq = word.lastIndexOf(">");
      if (word.startsWith("stack=") || eq >= 0) {
        const head = word.slice(0, Math.max(eq + 1, word.startsWith("stack=") ? 6 : 0));
        return { cands: n.funcs.map((f) => head + f), prefix: word };
      }
      return { cands: n.funcs, prefix: word };
    }
    if (prev.length === 2 && THIRD_WORDS[verb]) return { cands: THIRD_WORDS[verb], prefix: word };
    if (verb === "expect" || verb === "goal") {
      if (prev[1] === "task" && prev.length === 2) return { cands: pids, prefix: word };
      if ((prev[1] === "event" || prev[1] === "no-event") && prev.length === 2) return { cands: n.events || [], prefix: word };
      if (prev[1] === "task") return { cands: ["patch_state=", "pending=", "state=", "switched"], prefix: word };
    }
    return { cands: [...n.funcs, ...pids], prefix: word };
  }
}
