// Errors shown where the action was: a form that runs a scenario line
// shows the simulator's answer next to its own button, not only in the
// console further down the page (which may be off screen, or absent from
// a lesson's panels).

import { h } from "./dom.js";
import { failure } from "./session.js";

export class ActionError {
  constructor() {
    // role=alert: a screen reader hears the error where the user acted.
    this.el = h("p.action-error", { role: "alert", hidden: true });
  }

  /**
   * Shows what failed in an exec result (its error, or a command's
   * stderr), or clears the line when all went well.
   */
  report(res) {
    const msg = failure(res);
    if (msg) this.show(msg);
    else this.clear();
    return res;
  }

  show(msg) {
    this.el.textContent = msg;
    this.el.hidden = false;
  }

  clear() {
    this.el.textContent = "";
    this.el.hidden = true;
  }
}
