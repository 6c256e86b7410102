//go:build !js

package e2e

import (
	"strings"
	"testing"
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
