// The console: a transcript of everything executed (typed here or sent by
// a button) and an input line for the scenario language and the shell.
// ↑/↓ walk the history, Tab completes verbs, pids, functions, modules and
// paths (the core's verb registry says what may stand where: klp.complete),
// Enter runs, Shift+Enter adds a line (for livepatch blocks).

import { appendCapped, h } from "./dom.js";

const MAX_ENTRIES = 2000; // transcript lines kept in the DOM

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
      // a play tick brings at most the session's PLAY_LOG_LINES kernel log
      // lines, and a note counting the rest
      for (const o of output) {
        if (o.kind !== "cmd") out(o.kind, o.text, o.level);
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
    this.run(text);
  }

  /**
   * Queues text to run as if typed here, and resolves with its result.
   * Sliced, so a long command leaves the page drawing and answering; what
   * is typed meanwhile waits its turn (running it at once would interleave
   * with the long one), and so does input given while the widget loads.
   */
  run(text) {
    this.input.setAttribute("aria-busy", "true");
    const run = async () => {
      // a sliced run elsewhere (a profile switch's replay, the loading
      // wasm) goes first; its session may be replaced when it ends, so
      // look again after a turn
      while (this.session.running) {
        await this.session.whenIdle();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return this.session.execSliced(text, { from: "console" });
    };
    const res = (this.queue || Promise.resolve()).then(run).catch((e) => {
      this.write("error", e.message);
      return { output: [], error: e.message };
    });
    this.queue = res.finally(() => {
      if (!--this.pending) this.input.removeAttribute("aria-busy");
    });
    this.pending = (this.pending || 0) + 1;
    return res;
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

  /** Tab: the core completes the word before the caret. */
  complete() {
    const ta = this.input;
    const caret = ta.selectionStart;
    const { insert, matches } = this.session.complete(ta.value, caret);
    if (matches.length === 0) return;
    if (insert) {
      ta.setRangeText(insert, caret, caret, "end");
      this.autosize();
    } else {
      this.write("note", matches.slice(0, 60).join("  ") + (matches.length > 60 ? `  … (${matches.length})` : ""));
    }
  }
}
