// A small form that writes a livepatch declaration in the scenario
// language. It never talks to the simulator itself: it produces text that
// goes to the console (for review) or straight to exec, like everything
// else.

import { h } from "./dom.js";
import { ActionError } from "./notice.js";

let seq = 0;

export class LivepatchBuilder {
  /** @param session Session; @param console Console (for "insert") */
  constructor(session, console) {
    this.session = session;
    this.console = console;
    const id = `klp-b${++seq}`;
    this.name = h("input", { type: "text", id: `${id}-name`, value: "livepatch-fix", pattern: "[A-Za-z0-9_\\-]+", required: true });
    this.replaceBox = h("input", { type: "checkbox", id: `${id}-replace` });
    this.immediateBox = h("input", { type: "checkbox", id: `${id}-immediate` });
    this.rows = h("div.rows");
    this.preview = h("pre.preview", { "aria-label": "Scenario text of the new livepatch" });
    this.funcList = h("datalist", { id: `${id}-funcs` });
    this.funcListId = `${id}-funcs`;
    this.error = new ActionError();
    this.el = h("details.builder", null,
      h("summary", null, "New livepatch…"),
      h("form", { onsubmit: (e) => { e.preventDefault(); this.load(); }, oninput: () => this.render() },
        h("div.field", null, h("label", { for: `${id}-name` }, "Module name"), this.name),
        h("div.field", null, this.replaceBox, h("label", { for: `${id}-replace` }, " atomic replace (cumulative patch)")),
        h("div.field", null, this.immediateBox, h("label", { for: `${id}-immediate` }, " immediate: no consistency model (kernels 4.12 to 4.15)")),
        h("fieldset", null, h("legend", null, "Functions (old → new)"), this.rows,
          h("button", { type: "button", onclick: () => { this.addRow(); this.render(); } }, "add function")),
        this.funcList,
        h("p.small", null, "Scenario text:"), this.preview,
        h("div.actions", null,
          h("button", { type: "button", onclick: () => this.console.insert(this.text()) }, "Insert into console"),
          h("button.primary", { type: "submit" }, "Declare and insmod")),
        this.error.el));
    this.el.addEventListener("toggle", () => {
      if (this.el.open) this.refreshNames();
    });
    this.addRow("cmdline_proc_show");
    this.render();
  }

  refreshNames() {
    try {
      const n = this.session.names();
      this.funcList.replaceChildren(...n.funcs.map((f) => h("option", { value: f })));
    } catch {
      // no session yet
    }
  }

  addRow(old = "") {
    const obj = h("input", { type: "text", value: "vmlinux", size: "10", "aria-label": "object (vmlinux or a module)" });
    const oldF = h("input", { type: "text", value: old, size: "18", list: this.funcListId, "aria-label": "old function", required: true });
    const newF = h("input", { type: "text", value: "", size: "22", placeholder: "(default: prefix_old)", "aria-label": "new function" });
    const row = h("div.row", null, obj, " ", oldF, " → ", newF, " ",
      h("button", { type: "button", class: "small", "aria-label": "remove this function", onclick: () => { row.remove(); this.render(); } }, "✕"));
    row.inputs = { obj, oldF, newF };
    this.rows.appendChild(row);
  }

  modName() {
    return this.name.value.trim().replace(/\s+/g, "-") || "livepatch-fix";
  }

  text() {
    const name = this.modName();
    const prefix = name.replace(/\.ko$/, "").replace(/-/g, "_");
    const byObj = new Map();
    for (const row of this.rows.children) {
      const { obj, oldF, newF } = row.inputs;
      const o = obj.value.trim() || "vmlinux";
      const old = oldF.value.trim();
      if (!old) continue;
      const nu = newF.value.trim() || `${prefix}_${old}`;
      if (!byObj.has(o)) byObj.set(o, []);
      byObj.get(o).push(`    func ${old} -> ${nu}`);
    }
    const flags = (this.replaceBox.checked ? " replace" : "") + (this.immediateBox.checked ? " immediate" : "");
    const lines = [`livepatch ${name}${flags}`];
    for (const [o, fs] of byObj) lines.push(`  object ${o}`, ...fs);
    lines.push("end");
    return lines.join("\n");
  }

  render() {
    this.preview.textContent = `${this.text()}\ninsmod ${this.modName()}`;
  }

  /**
   * Declares the livepatch and loads it as one action: when insmod fails
   * (a transition in progress: EBUSY) the declaration is taken back too,
   * so the next try does not find it "declared twice".
   */
  load() {
    this.error.report(this.session.execAll([this.text(), `insmod ${this.modName()}`]));
  }
}
