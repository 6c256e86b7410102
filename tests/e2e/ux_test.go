//go:build !js

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
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
	eval[bool](tb, `(__t.q(".builder p.action-error").scrollIntoView({block: "center"}), true)`)
	shot(tb, "builder-error")
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

// TestSplitCallThroughControls: the call form's handler choice stops a
// call inside klp_ftrace_handler; the card says so and offers call-finish,
// which makes the rest of the reads and runs what the handler picked.
func TestSplitCallThroughControls(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.typeLine("run 43 cpu=1") // the handler runs on a CPU; no control puts a task on one
	tb.waitText(card(43), "on CPU 1")
	tb.click(card(43), "Act on 43")
	tb.set(card(43)+` form.call input`, "cmdline_proc_show")
	tb.set(card(43)+` form.call select`, "split=transition")
	tb.click(card(43), "call")
	tb.waitText(consoleQ, "call 43 cmdline_proc_show split=transition")
	tb.waitText(card(43), "inside klp_ftrace_handler (cmdline_proc_show)")
	tb.shot(card(43), "split-call-card")
	// the task does nothing else meanwhile: a refused control says why
	tb.click(card(43), "sysret")
	tb.waitText(card(43)+" span.action-error", "call-finish 43 first")
	tb.click(card(43), "call-finish")
	tb.waitText(consoleQ, "call-finish 43")
	tb.waitJS(`!__t.q('`+card(43)+`').textContent.includes("inside klp_ftrace_handler")`, "the handler badge to go")
	tb.waitText(card(43), "livepatch_cmdline_proc_show")
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
	tb.clickID("undo-load")
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

// smallTargetsJS lists the page's interactive elements (in the document
// and the widget's shadow root) smaller than 24×24 CSS px, the WCAG 2.2
// minimum target size. Links inside running text are exempt, as WCAG
// exempts them; hidden elements have no box.
const smallTargetsJS = `(() => {
  const sel = "button, select, input:not([type=hidden]), textarea, summary, a[href], label.filebtn, [role=button], [tabindex]:not([tabindex='-1'])";
  const all = [...document.querySelectorAll(sel), ...__t.root().querySelectorAll(sel)];
  const out = [];
  for (const e of all) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (e.matches(".visually-hidden, .sr-only")) continue;
    if (e.tagName === "A" && e.closest("p, li, td, dd") && !e.matches(".navlink")) continue;
    if (r.width < 24 || r.height < 24) {
      out.push(e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replace(/ /g, ".") : "") + " " +
        JSON.stringify((e.getAttribute("aria-label") || e.textContent || e.type || "").trim().slice(0, 30)) + " " + Math.round(r.width) + "×" + Math.round(r.height));
    }
  }
  return out;
})()`

// TestPhoneTargets: at 390 px wide every control of the page is at least
// 24 px each way, with every disclosure open, in light and dark.
func TestPhoneTargets(t *testing.T) {
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			tb := newTab(t)
			if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
				t.Fatal(err)
			}
			emulateScheme(tb, scheme)
			tb.open(siteURL + "/")
			tb.click(tasksQ, "Spawn task")
			tb.click(patchesQ, "New livepatch…")
			tb.click(card(43), "Act on 43")
			tb.click(timeQ, "Until…")
			tb.waitJS(`__t.q("form.fork")`, "the task's actions")
			if small := eval[[]string](tb, smallTargetsJS); len(small) > 0 {
				t.Errorf("%d controls smaller than 24×24 px at 390 px wide:\n\t%s", len(small), strings.Join(small, "\n\t"))
			}
			for _, at := range []string{"form.fork", "details.builder", ".timebar"} {
				eval[bool](tb, fmt.Sprintf(`(__t.q(%s).scrollIntoView({block: "center"}), true)`, jsString(at)))
				shot(tb, "phone-"+scheme+"-"+strings.Trim(at, "."))
			}
		})
	}
}

// shot saves what the viewport shows as $KLP_SHOTS/name.png, for a
// person to look at; without KLP_SHOTS it does nothing.
func shot(tb *tab, name string) {
	tb.t.Helper()
	dir := os.Getenv("KLP_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// A one-click button whose command the simulator refuses shows why next
// to itself (the console may be off screen), until the next command.
func TestOneClickErrorAtTheButton(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(card(42), "Act on 42")
	tb.click(card(42), "sysret") // cat:42 sleeps in the kernel
	tb.waitText(card(42)+" .action-error", "sysret: cat:42 is sleeping; wake it first")
	if got := eval[string](tb, `__t.q(`+jsString(card(42)+` .action-error`)+`).previousElementSibling.textContent`); got != "sysret" {
		t.Errorf("the error follows %q, want the sysret button", got)
	}
	tb.shot(card(42), "one-click-error")
	tb.click(card(42), "wake")
	tb.waitText(consoleQ, "wake 42")
	if msg := eval[string](tb, `__t.q(`+jsString(card(42)+` .action-error`)+`)?.textContent || ""`); msg != "" {
		t.Errorf("after wake the card still shows %q", msg)
	}
}

// TestShellWaitsThroughControls: the waits example, played with the page's
// controls. The unpatch waits for an RCU Tasks grace period a spinning
// kthread holds up; an insmod meanwhile puts the shell's task to sleep (D)
// behind klp_mutex, and its card says so until the grace period ends.
func TestShellWaitsThroughControls(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.do(`(() => { const s = document.getElementById("examples"); s.value = "waits.klp"; s.dispatchEvent(new Event("change")); return ""; })()`)
	tb.waitText(card(30), "kworker/0:1")
	tb.click(card(300), "Act on 300")
	tb.click(card(300), "cond_resched")
	tb.click(timeQ, "Settle")
	tb.waitText(transQ, "No transition in progress.")
	tb.click(patchesQ, "disable")
	tb.waitText(transQ, "unpatching")
	tb.click(card(300), "cond_resched")
	tb.click(timeQ, "Step") // a retry completes the unpatch; the kworker waits
	tb.waitText(card(30), "Sleeps in the kernel: synchronize_rcu_tasks")
	tb.click(patchesQ, "insmod") // test_mod: module loads take klp_mutex
	tb.waitText(consoleQ, "insmod blocks")
	tb.waitText(card(43), "disk-sleep (D)", "Sleeps in the kernel: mutex_lock(&klp_mutex)")
	// and its timeline lane has a band from then on
	tb.waitJS(`!!__t.q('.panel.timeline g.lane.task[data-pid="43"] rect.kwait')`, "the shell's lane to show its sleep")
	tb.click(timeQ, "Step")
	tb.shot(".panel.timeline", "shell-asleep-timeline")
	tb.shot(card(43), "shell-asleep-card")
	tb.click(card(300), "block (S)")
	tb.click(timeQ, "Until…")
	tb.click(".untilmenu", "a wait ends (a grace period, a sleeping shell)")
	tb.waitNoText(card(43), "Sleeps in the kernel")
	tb.waitText(patchesQ, "test_mod", "live")
}

// TestLongLogBuildsOnScroll: a retry over a thousand blocked tasks prints
// a debug line for each; the log panel builds only its newest blocks at
// once (the rest are sized, not built), shows the newest lines, and
// builds an old block when the user scrolls up to it.
func TestLongLogBuildsOnScroll(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitText(transQ, "livepatch_sample is patching")
	tb.typeLine("spawn-random 1500")
	tb.typeLine("sleep 2")
	tb.waitText(logQ, "klp_try_switch_task: ")
	tb.waitJS(`__t.q(".kernlog .chunk.lazy") !== null`, "old blocks of the log left unbuilt")
	if n := eval[int](tb, `__t.q(".kernlog").lastElementChild.childElementCount`); n == 0 {
		t.Fatal("the newest block of the log is empty")
	}
	shot(tb, "log-long")
	// scroll to the oldest lines, as a reader does
	tb.do(`(() => { const k = __t.q(".kernlog"); k.scrollTop = 0; k.dispatchEvent(new Event("scroll")); return ""; })()`)
	tb.waitJS(`(() => { const c = __t.q(".kernlog").firstElementChild; return !c.classList.contains("lazy") && c.childElementCount === Number(c.dataset.n); })()`, "the oldest block built once scrolled to")
	if s := eval[string](tb, `__t.q(".kernlog").firstElementChild.firstElementChild.textContent`); !strings.Contains(s, "[") {
		t.Errorf("the oldest line reads %q, want a dmesg line", s)
	}
}

// TestHookSplitThroughControls plays lesson 10's step 3 as a person does:
// the task card stops kworker's cond_resched hook after its loads, the
// transition panel reverses the transition, and the call form calls
// helper_fn: on the series' first version (cond-resched-v1) the task was
// marked patched over the old worker_fn, and the alarm is drawn.
func TestHookSplitThroughControls(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	const machine = `cpus 2
vmlinux kthread/0x80 worker_fn/0x80 helper_fn/0x60 schedule/0x40
livepatch p
  object vmlinux
    func worker_fn -> worker_fn_v2/0x80
    func helper_fn -> helper_fn_v2/0x60
end
task 100 kworker kthread state=running cpu=1 stack=kthread>worker_fn
insmod p
`
	open := func(profile string) {
		t.Helper()
		link := tb.shareLink("kernel " + profile + "\n" + machine)
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		tb.waitJS(`document.body.dataset.ready === "true"`, "the page to load the link")
		tb.install()
		tb.waitText(card(100), "TIF_PATCH_PENDING")
		tb.click(card(100), "Act on 100")
	}
	// 6.16 has no cond_resched hook: the card offers no split, though the
	// task is pending and running in the kernel
	open("6.16")
	if txt := tb.text(card(100)); !contains(txt, "cond_resched") || contains(txt, "cond_resched split") {
		t.Errorf("on 6.16 the card should offer cond_resched and no split:\n%s", txt)
	}
	open("cond-resched-v1")
	tb.click(card(100), "cond_resched split")
	tb.waitText(consoleQ, "cond_resched 100 split")
	tb.waitText(card(100), "inside the cond_resched hook (loaded KLP_PATCHED)")
	// the task does nothing else meanwhile: a refused control says why
	tb.click(card(100), "ret")
	tb.waitText(card(100)+" span.action-error", "cond_resched-finish 100 first")
	tb.click(transQ, "reverse (disable)")
	tb.waitText(consoleQ, "echo 0 > /sys/kernel/livepatch/p/enabled")
	// the reversal's synchronisation finished the hook: it stored the
	// target it loaded before the flip
	tb.waitNoText(card(100), "inside the cond_resched hook")
	tb.waitText(card(100), "KLP_PATCHED", "TIF_PATCH_PENDING")
	if ev := eval[bool](tb, `JSON.parse(__t.view()).Tasks.some((t) => t.PID === 100 && t.PatchState === 1 && t.Pending)`); !ev {
		t.Error("kworker:100 is not patched and pending again after the reversal")
	}
	tb.set(card(100)+` form.call input`, "helper_fn")
	tb.click(card(100), "call")
	tb.waitText(consoleQ, "call 100 helper_fn")
	tb.waitText(alarmsQ, "1 alarm")
	tb.waitCount(lane("100")+` g.mark[data-kind="alarm"]`, 1)
	tb.shot(card(100), "hook-split-card")
}

// TestPageControlStyles: Import .klp (a label for a hidden file input),
// reached with Tab from Explore, shows the focus outline at full
// strength, and a disabled page button (the explore dialog's Cancel with
// no search) is drawn faded.
func TestPageControlStyles(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.do(`(() => { document.getElementById("explore").focus(); return ""; })()`)
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`document.activeElement?.id === "import"`, "Tab to reach Import .klp")
	if got := eval[string](tb, `(() => { const c = getComputedStyle(document.querySelector("label.filebtn")); return c.outlineStyle + " " + c.opacity; })()`); got != "solid 1" {
		t.Errorf("focused Import .klp: outline and opacity %q, want \"solid 1\"", got)
	}
	tb.waitJS(`!!window.klp && __t.pg().source().length > 0`, "the default example to load")
	tb.clickID("explore") // no region: nothing to cancel
	tb.waitJS(`document.querySelector("#explore-dialog").open`, "the explore dialog to open")
	if got := eval[string](tb, `(() => { const b = document.getElementById("explore-cancel"); return b.disabled + " " + getComputedStyle(b).opacity; })()`); got != "true 0.5" {
		t.Errorf("Cancel with no search: disabled and opacity %q, want \"true 0.5\"", got)
	}
}
