//go:build !js

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every lesson can be finished through the page's controls: each line of
// a step's reference solution is done with the control that exists for it
// (a task's action buttons and fork form, the time bar's Step, Settle and
// Until…, the transition panel's buttons, the patches panel's enable,
// disable, insmod and rmmod), and typed into the console only when the
// step's widget has no control for it (reading files, ps, lesson-only
// verbs).

// lessonUIJS does one solution line in step k's widget and says how:
// {via: "control"|"console", why, err}. It reads the line with a few
// regular expressions to find the control; the page itself never parses
// scenario text.
const lessonUIJS = `window.__u = {
  root: (k) => document.getElementById("step-" + k).shadowRoot,
  button: (scope, label) => scope && [...scope.querySelectorAll("button, summary")].find((b) => b.textContent.trim() === label && !b.disabled),
  errors: (k) => __u.root(k).querySelectorAll(".transcript .k-error").length,
  src: (k) => document.getElementById("step-" + k).source(),
  // the task card of pid p with its actions shown
  card: (k, p) => {
    const c = __u.root(k).querySelector('li.task[data-pid="' + p + '"]');
    if (!c) return null;
    const d = __u.button(c, "Act on " + p);
    if (d && d.getAttribute("aria-expanded") !== "true") d.click();
    return __u.root(k).querySelector('li.task[data-pid="' + p + '"]');
  },
  set: (el, v) => { el.value = v; el.dispatchEvent(new Event("input", { bubbles: true })); },
  press: (k, line) => {
    const r = __u.root(k);
    const lp = "/sys/kernel/livepatch/";
    let m;
    const click = (scope, label, times = 1) => {
      for (let i = 0; i < times; i++) {
        const b = typeof scope === "function" ? __u.button(scope(), label) : __u.button(scope, label);
        if (!b) return "no enabled control " + JSON.stringify(label);
      b.click();
      }
      return "";
    };
    const taskVerbs = { "wake": "wake", "syscall": "syscall", "sysret": "sysret", "cond_resched": "cond_resched", "block": "block (S)" };
    if ((m = /^(wake|syscall|sysret|cond_resched|block) (\d+)$/.exec(line))) {
      return click(() => __u.card(k, m[2]), taskVerbs[m[1]]);
    }
    if ((m = /^cond_resched (\d+) split$/.exec(line))) return click(() => __u.card(k, m[1]), "cond_resched split");
    if ((m = /^ret (\d+)(?: (\d+))?$/.exec(line))) return click(() => __u.card(k, m[1]), "ret", Number(m[2] || 1));
    if ((m = /^kill -(STOP|CONT) (\d+)$/.exec(line))) return click(() => __u.card(k, m[2]), "SIG" + m[1]);
    if ((m = /^call (\d+) (\S+)(?: (split(?:=transition)?))?$/.exec(line))) {
      const c = __u.card(k, m[1]);
      const f = c && c.querySelector("form.call input");
      if (!f) return "no call field";
      __u.set(f, m[2]);
      const sel = c.querySelector("form.call select");
      sel.value = m[3] || "";
      return click(c.querySelector("form.call"), "call");
    }
    if ((m = /^cond_resched-finish (\d+)$/.exec(line))) return click(() => __u.card(k, m[1]), "cond_resched-finish");
    if ((m = /^(call|fork)-finish (\d+)$/.exec(line))) {
      let pid = m[2];
      if (m[1] === "fork") {
        // the button is on the parent's card, badged "forking CHILD"
        const li = [...__u.root(k).querySelectorAll("li.task")].find((c) => [...c.querySelectorAll(".badge")].some((b) => b.textContent === "forking " + m[2]));
        if (!li) return "no task is forking " + m[2];
        pid = li.dataset.pid;
      }
      return click(() => __u.card(k, pid), m[1] + "-finish");
    }
    if ((m = /^fork (\d+)((?: (?:child=\d+|comm=\S+|thread|dup-only))*)$/.exec(line))) {
      const c = __u.card(k, m[1]);
      const f = c && c.querySelector("form.fork");
      if (!f) return "no fork form";
      const child = /child=(\d+)/.exec(m[2]), comm = /comm=(\S+)/.exec(m[2]);
      __u.set(f.querySelector("input[type=number]"), child ? child[1] : "");
      __u.set(f.querySelector("input[type=text]"), comm ? comm[1] : "");
      const boxes = f.querySelectorAll("input[type=checkbox]");
      boxes[0].checked = / thread/.test(m[2]);
      boxes[1].checked = / dup-only/.test(m[2]);
      return click(f, "fork");
    }
    if ((m = /^sleep (\d+)$/.exec(line))) {
      const sel = r.querySelector('.timebar select[aria-label="Step size"]');
      sel.value = "1s";
      sel.dispatchEvent(new Event("change"));
      return click(r.querySelector(".timebar"), "Step", Number(m[1]));
    }
    if (line === "settle") return click(r.querySelector(".timebar"), "Settle");
    if (line === "until signal") {
      const e = click(r.querySelector(".timebar"), "Until…");
      return e || click(r.querySelector(".timebar .untilmenu"), "a fake signal");
    }
    if ((m = /^echo ([01]) > \/sys\/kernel\/livepatch\/(\w+)\/(enabled|force|signal)$/.exec(line))) {
      const tr = r.querySelector(".panel.transition");
      const inTr = tr && tr.querySelector("p.what strong") && tr.querySelector("p.what strong").textContent === m[2];
      if (inTr && m[3] === "signal") return click(tr, "send fake signals");
      if (inTr && m[3] === "force") return click(tr, "force");
      if (inTr && m[3] === "enabled") return click(tr, m[1] === "0" ? "reverse (disable)" : "reverse (enable)");
      const p = [...r.querySelectorAll(".panel.patches li.patch")].find((li) => li.querySelector("strong").textContent === m[2]);
      if (p && m[3] === "enabled") return click(p, m[1] === "0" ? "disable" : "enable");
      return null;
    }
    if ((m = /^(insmod|rmmod) (\S+?)(?:\.ko)?$/.exec(line))) {
      const name = m[2].replace(/-/g, "_");
      const mod = [...r.querySelectorAll(".panel.patches .modlist li, .panel.patches li.patch")]
        .find((li) => (li.querySelector("code, strong").textContent.replace(/-/g, "_")) === name && __u.button(li, m[1]));
      return mod ? click(mod, m[1]) : null;
    }
    return null; // no control for this line
  },
  // does the line, by control if there is one; returns {via, why, err}
  act: async (k, line) => {
    const e0 = __u.errors(k), u0 = __u.src(k);
    const why = __u.press(k, line);
    if (why === null) {
      const errs = await __l.type(k, line);
      return { via: "console", why: "", err: errs.join("; ") };
    }
    if (why) return { via: "control", why, err: why };
    await __l.idle(k);
    const errs = [...__u.root(k).querySelectorAll(".transcript .k-error")].slice(e0).map((e) => e.textContent);
    if (__u.src(k) === u0) errs.push("the control ran nothing");
    return { via: "control", why: "", err: errs.join("; ") };
  },
};
true`

// mustControl says which solution lines a lesson's widget must do with a
// control (the tasks panel and the time bar are in every lesson's widget);
// the test fails if such a line falls back to the console.
func mustControl(line string) bool {
	if forkLine.MatchString(line) {
		return true
	}
	for _, p := range []string{"wake ", "syscall ", "sysret ", "cond_resched ", "ret ", "kill -", "call ", "call-finish ", "fork-finish ", "sleep "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return line == "settle" || line == "until signal" || strings.HasSuffix(line, "/signal")
}

// forkLine is a fork the fork form can do (options it has fields for).
var forkLine = regexp.MustCompile(`^fork \d+( (child=\d+|comm=\S+|thread|dup-only))*$`)

type uiResult struct {
	Via, Why, Err string
}

func TestLessonsThroughControls(t *testing.T) {
	tb := newTab(t)
	ls := lessonSyllabus(tb)
	total := map[string]int{}
	for _, l := range ls {
		name := strings.TrimSuffix(l.Href[strings.LastIndex(l.Href, "/")+1:], ".html")
		t.Run(name, func(t *testing.T) {
			lt := &tab{t: t, ctx: tb.ctx}
			lessonOpen(lt, l.Href)
			eval[bool](lt, lessonUIJS)
			ready := make([]string, l.Steps)
			for k := range ready {
				ready[k] = fmt.Sprintf("__l.ready(%d)", k+1)
			}
			lessonWait(lt, strings.Join(ready, " && "), 30*time.Second, func() string { return "every step's widget to run its scenario" })
			via := map[string]int{}
			var typed []string
			for k := 1; k <= l.Steps; k++ {
				lines := eval[[]string](lt, fmt.Sprintf("__l.solution(%d)", k))
				for _, line := range lines {
					r := evalAwait[uiResult](lt, fmt.Sprintf("__u.act(%d, %s)", k, jsString(line)))
					if r.Err != "" {
						t.Fatalf("step %d: %q by %s: %s\ngoals: %s", k, line, r.Via, r.Err, eval[lessonGoals](lt, fmt.Sprintf("__l.goals(%d)", k)))
					}
					if r.Via == "console" {
						if mustControl(line) {
							t.Errorf("step %d: %q has a control but was typed", k, line)
						}
						typed = append(typed, line)
					}
					via[r.Via]++
					total[r.Via]++
				}
				lessonWait(lt, fmt.Sprintf("__l.goals(%d).met", k), 5*time.Second, func() string {
					return fmt.Sprintf("step %d's goals after its solution through the controls; they show %s", k, eval[lessonGoals](lt, fmt.Sprintf("__l.goals(%d)", k)))
				})
			}
			t.Logf("%d lines by control, %d typed (no control: %q)", via["control"], via["console"], typed)
		})
	}
	t.Logf("all lessons: %d solution lines by control, %d typed", total["control"], total["console"])
}
