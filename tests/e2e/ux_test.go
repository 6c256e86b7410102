//go:build !js

package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Errors appear next to the control that caused them, and an action that
// fails halfway leaves nothing behind.

// TestBuilderInsmodFailsWhereItWas: during a transition the kernel refuses
// a second livepatch (EBUSY). The builder says so under its own button,
// takes its declaration back with the failed insmod, and the same click
// works once the transition is over (no "declared twice").
func TestBuilderInsmodFailsWhereItWas(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitText(transQ, "livepatch_sample is patching")
	tb.click(patchesQ, "New livepatch…")
	tb.click(".builder", "Declare and insmod")
	tb.waitText(".builder p.action-error", "could not insert module livepatch-fix: Device or resource busy")
	tb.waitText(consoleQ, "taken back: livepatch livepatch-fix")
	if src := eval[string](tb, `__t.pg().source()`); strings.Contains(src, "livepatch-fix") {
		t.Errorf("the failed insmod left its declaration in the session:\n%s", src)
	}
	tb.click(timeQ, "Settle")
	tb.waitText(transQ, "No transition in progress.")
	tb.click(".builder", "Declare and insmod")
	tb.waitText(transQ, "livepatch_fix is patching")
	if eval[bool](tb, `!__t.q(".builder p.action-error").hidden`) {
		t.Errorf("the builder still shows an error: %q", tb.text(".builder p.action-error"))
	}
	if n := strings.Count(eval[string](tb, `__t.pg().source()`), "livepatch livepatch-fix"); n != 1 {
		t.Errorf("the session declares livepatch-fix %d times", n)
	}
	// the declaration and its insmod are one step of the timeline
	tb.click(timeQ, "◀ Undo")
	tb.waitText(transQ, "No transition in progress.")
	if src := eval[string](tb, `__t.pg().source()`); strings.Contains(src, "livepatch-fix") {
		t.Errorf("one undo did not take the whole action back:\n%s", src)
	}
}

// TestForkFormChoosesPid: the fork control takes the child's pid and name
// (lesson 9 asks for pid 101), and a pid in use is refused next to it.
func TestForkFormChoosesPid(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(card(43), "Act on 43")
	tb.set(card(43)+` form.fork input[type=number]`, "150")
	tb.set(card(43)+` form.fork input[type=text]`, "kid")
	tb.click(card(43), "fork")
	tb.waitText(consoleQ, "fork 43 child=150 comm=kid")
	tb.waitText(card(150), "150 kid", "patch_state 1 KLP_TRANSITION_PATCHED")
	tb.click(card(43), "fork")
	tb.waitText(card(43)+" p.action-error", "150")
	// the other fields of the card still work, and a good fork clears it
	tb.set(card(43)+` form.fork input[type=number]`, "")
	tb.click(card(43), "fork")
	tb.waitJS(`__t.q('`+card(43)+` p.action-error').hidden`, "the fork error to clear")
}

// TestSpawnErrorAtTheForm: a bad stack is reported under the Spawn form.
func TestSpawnErrorAtTheForm(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(tasksQ, "Spawn task")
	tb.set(".spawn input[aria-label^='New task: kernel stack']", "do_syscall_64>no_such_function")
	tb.click(".spawn", "Spawn")
	tb.waitText(".spawn p.action-error", "no_such_function")
}

// A user's work is never lost: Back and Forward move between the states
// of the session, choosing an example (with the mouse or an arrow key)
// can be undone, and a profile switch keeps the timeline.

func (tb *tab) historyLen() int { return eval[int](tb, `history.length`) }

// waitPushed waits until the page has pushed a history entry beyond n.
func (tb *tab) waitPushed(n int) int {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf(`history.length > %d && location.hash.startsWith("#s=v1.")`, n), "a new history entry")
	return tb.historyLen()
}

func TestBackForwardMoveBetweenStates(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	n := tb.historyLen()
	tb.click(timeQ, "Step")
	tb.waitText("", "t = 1.000 s")
	n = tb.waitPushed(n)
	tb.click(timeQ, "Step")
	tb.waitText("", "t = 2.000 s")
	tb.waitPushed(n)
	if err := chromedp.Do(tb.ctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	tb.waitText("", "t = 1.000 s")
	if err := chromedp.Do(tb.ctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	tb.waitText("", "t = 0.000 s")
	tb.waitText(card(42), "42 cat")
	if u := eval[string](tb, `location.href`); u != siteURL+"/" {
		t.Errorf("Back to the first state is at %s", u)
	}
	if err := chromedp.Do(tb.ctx, chromedp.NavigateForward()); err != nil {
		t.Fatal(err)
	}
	tb.waitText("", "t = 1.000 s")
	// going back did not push entries of its own: Forward still has one
	if err := chromedp.Do(tb.ctx, chromedp.NavigateForward()); err != nil {
		t.Fatal(err)
	}
	tb.waitText("", "t = 2.000 s")
}

func TestExampleSwitchIsUndoable(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.typeLine("task 77 mine")
	tb.waitText(card(77), "77 mine")
	// an arrow key on the select picks the next example at once
	if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.ID("examples")), chromedp.KeyEvent(kb.ArrowDown)); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`!document.getElementById("undo-load").hidden`, "the Undo offer")
	tb.waitNoText(".panel.tasks", "77 mine")
	if s := eval[string](tb, `document.getElementById("page-status").innerText`); !strings.Contains(s, "Your previous session is one step Back") {
		t.Errorf("status: %q", s)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("undo-load"))); err != nil {
		t.Fatal(err)
	}
	tb.waitText(card(77), "77 mine")
	// without work of the user's, switching offers nothing to undo
	tb.do(`(() => { const s = document.getElementById("examples"); s.value = "force.klp"; s.dispatchEvent(new Event("change")); return ""; })()`)
	tb.waitText(alarmsQ, "1 alarm")
	tb.do(`(() => { const s = document.getElementById("examples"); s.value = "default.klp"; s.dispatchEvent(new Event("change")); return ""; })()`)
	tb.waitText(alarmsQ, "0 alarms")
	tb.waitJS(`document.getElementById("page-status").innerText.startsWith("Loaded example: livepatch-sample")`, "the default example's status")
	if eval[bool](tb, `!document.getElementById("undo-load").hidden`) {
		t.Error("Undo offered after switching between untouched examples")
	}
}

func TestProfileSwitchKeepsTimeline(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(timeQ, "Step")
	tb.waitText("", "t = 1.000 s")
	tb.click(timeQ, "Step")
	tb.waitText("", "t = 2.000 s")
	tb.set(`select[aria-label="Kernel profile"]`, "4.16")
	tb.waitText(consoleQ, "kernel profile 6.16 → 4.16", "its timeline too (3 steps)")
	tb.waitText(".timebar", "step 2 of 2")
	tb.waitText("", "t = 2.000 s")
	tb.click(timeQ, "◀ Undo")
	tb.waitText("", "t = 1.000 s")
	if p := eval[string](tb, `__t.pg().session.view().Profile`); p != "4.16" {
		t.Errorf("after undo the profile is %s", p)
	}
	// a step the new profile refuses ends the replayed timeline there
	tb.click(timeQ, "Redo ▶")
	tb.set(`select[aria-label="Kernel profile"]`, "6.16")
	tb.typeLine("livepatch lp-r replace\n  object vmlinux\n    func meminfo_proc_show -> r_meminfo_proc_show\nend")
	tb.waitText(consoleQ, "livepatch lp-r replace")
	tb.set(`select[aria-label="Kernel profile"]`, "4.16")
	tb.waitText("div.error", "Kernel 4.16 stops the timeline at step", "atomic replace needs kernel 5.1")
	tb.waitText("", "t = 2.000 s")
}
