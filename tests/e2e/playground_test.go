//go:build !js

package e2e

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	lp       = "/sys/kernel/livepatch/livepatch_sample"
	consoleQ = ".panel.console"
	tasksQ   = ".panel.tasks"
	transQ   = ".panel.transition"
	patchesQ = ".panel.patches"
	logQ     = ".panel.log"
	alarmsQ  = ".panel.alarms"
	timeQ    = ".timebar"
)

func card(pid int) string { return fmt.Sprintf(`li.task[data-pid="%d"]`, pid) }

func TestPageShowsDefaultScenario(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitText(card(42), "42 cat", "sleeping (S)", "patch_state 0 KLP_TRANSITION_UNPATCHED", "TIF_PATCH_PENDING",
		"Blocked: is sleeping on function cmdline_proc_show")
	// each frame says its role in text, not only in colour
	tb.waitFrames(42, "unrelated schedule+0x10/0x100", "old cmdline_proc_show+0x1a/0x30", "unrelated seq_read+0x10/0x100")
	tb.waitText(transQ, "livepatch_sample is patching", "3/4 tasks switched")
	tb.waitText("", "t = 0.000 s", "simulated", "seed 0")
	tb.waitText(consoleQ, "insmod livepatch-sample.ko")
	tb.waitText(logQ, "livepatch: enabling patch 'livepatch_sample'", "is sleeping on function cmdline_proc_show")
	tb.waitText(patchesQ, "livepatch_sample", "enabled", "in transition", "stack_order 1")

	// every form control has an accessible name
	unlabelled := eval[[]string](tb, `[...__t.root().querySelectorAll("input, select, textarea")].filter((e) =>
		!e.getAttribute("aria-label") && !(e.id && __t.root().querySelector('label[for="' + e.id + '"]')) && !e.closest("label")).map((e) => e.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("form controls without a label: %q", unlabelled)
	}
	// the console's transcript is a live region
	if got := eval[string](tb, `__t.q(".transcript").getAttribute("aria-live")`); got != "polite" {
		t.Errorf("transcript aria-live = %q", got)
	}

	// "?" opens the help sheet, from the keyboard
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("?")); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`document.getElementById("help").open`, "the help sheet")
	if s := eval[string](tb, `document.getElementById("help").innerText`); !strings.Contains(s, "play / pause") {
		t.Errorf("help sheet: %q", s)
	}
}

func TestConsoleRunsShellCommands(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.typeLine("cat /proc/42/patch_state")
	tb.waitJS(`[...__t.root().querySelectorAll(".transcript .line")].some((l) => l.innerText === "0")`, "cat output 0")
	tb.typeLine("frobnicate 1")
	tb.waitText(consoleQ, `console:1:1: unknown command "frobnicate"`)
	// the session still works after a scenario error
	tb.typeLine("cat " + lp + "/transition")
	tb.waitJS(`[...__t.root().querySelectorAll(".transcript .line")].some((l) => l.innerText === "1")`, "transition reads 1")
	// history: ArrowUp brings the last line back
	tb.do(`(() => { const ta = __t.q("textarea.cmd"); ta.focus(); ta.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true, cancelable: true })); return ta.value === "cat ` + lp + `/transition" ? "" : "history gave " + ta.value; })()`)
	// Tab completes a path
	tb.do(`(() => { const ta = __t.q("textarea.cmd"); ta.value = "cat /sys/kernel/livepatch/livepatch_sample/tran"; ta.setSelectionRange(ta.value.length, ta.value.length);
		ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true }));
		return ta.value === "cat /sys/kernel/livepatch/livepatch_sample/transition " ? "" : "completed to " + JSON.stringify(ta.value); })()`)
}

// The console's Tab completion comes from the core (klp.complete): typed
// keys, as a person presses them.
func TestConsoleCompletesThroughThePage(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.do(`(() => { __t.q("textarea.cmd").focus(); return ""; })()`)
	press := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	value := `__t.q("textarea.cmd").value`
	press("wak", kb.Tab, "42", kb.Tab) // tasks 42 and 43
	tb.waitJS(value+` === "wake 42 "`, "wak⇥42⇥ to complete to wake 42")
	// an ambiguous word lists the candidates in the transcript
	tb.do(`(() => { const ta = __t.q("textarea.cmd"); ta.value = ""; return ""; })()`)
	press("sys", kb.Tab)
	tb.waitJS(value+` === "sys"`, "sys⇥ to stay as it is")
	// the candidates line lists every verb starting with "sys" (syscall,
	// sysret and whatever else the registry grows)
	tb.waitJS(`[...__t.root().querySelectorAll(".transcript .line")].some((l) => /\bsyscall\b.*\bsysret\b/.test(l.innerText))`, "the candidates syscall and sysret listed")
	tb.shot(".console", "console-completion")
	press("ca", kb.Tab, "42", kb.Enter) // "sysc" is sysctl or syscall
	tb.waitJS(`[...__t.root().querySelectorAll(".transcript .line")].some((l) => l.innerText === "syscall 42")`, "the completed line to run")
}

func TestBuildPatchStack(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(timeQ, "Settle")
	tb.waitText(transQ, "No transition in progress.")
	tb.click(patchesQ, "New livepatch…")
	tb.set(".builder input[type=text]", "lp-two")
	tb.click(".builder", "Declare and insmod")
	tb.waitText(consoleQ, "livepatch lp-two", "insmod lp-two")
	tb.waitText(patchesQ, "lp_two", "stack_order 2", "livepatch_sample", "stack_order 1")
	// drawn newest on top (draw_test.go checks the order)
	tb.waitJS(`[...__t.root().querySelectorAll(".panel.funcstacks g.fbox")].map((g) => g.dataset.label).join("|") === "lp_two: lp_two_cmdline_proc_show|livepatch_sample: livepatch_cmdline_proc_show|original cmdline_proc_show"`, "the func_stack drawn with both patches")
	tb.waitText(transQ, "lp_two is patching")
	tb.click(timeQ, "Settle")
	tb.waitText(transQ, "No transition in progress.")
	tb.waitText(logQ, "'lp_two': patching complete")
}

// TestBuildImmediatePatch: the builder's "immediate" box declares an
// immediate patch. On 6.16 the declaration is refused, the error says why
// and nothing changes; the form keeps what was typed across a switch to
// 4.15, where the patch completes inside its insmod with no task ever
// pending, though cat still sleeps in the old cmdline_proc_show.
func TestBuildImmediatePatch(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(patchesQ, "New livepatch…")
	tb.set(".builder input[type=text]", "lp-imm")
	tb.do(`(() => { __t.q(".builder input[id$='-immediate']").click(); return ""; })()`)
	tb.waitText(".builder pre.preview", "livepatch lp-imm immediate")
	tb.click(".builder", "Declare and insmod")
	tb.waitText(".builder", "immediate was removed in kernel 4.16 (profile 6.16)")
	if n := eval[int](tb, `__t.pg().session.view().Patches.length`); n != 1 {
		t.Errorf("after the refused declaration the page has %d patches, want the sample's 1", n)
	}
	// 4.15: the sample's transition never completes there (no fake
	// signals), so reverse it and unload it (the stacking rule of v4.12 to
	// v5.0 keeps a patch from being enabled above a disabled one)
	tb.set(`select[aria-label="Kernel profile"]`, "4.15")
	tb.waitText(consoleQ, "kernel profile 6.16 → 4.15")
	if got := eval[string](tb, `(() => { const b = __t.q(".builder"); return b.open + " " + b.querySelector("input[type=text]").value + " " + b.querySelector("input[id$='-immediate']").checked; })()`); got != "true lp-imm true" {
		t.Errorf("the form after the profile switch: open, name, immediate = %s; want it as typed", got)
	}
	if msg := eval[string](tb, `__t.q(".builder .action-error").hidden ? "" : __t.q(".builder .action-error").textContent`); msg != "" {
		t.Errorf("the form still shows the old machine's error: %q", msg)
	}
	tb.typeLine("echo 0 > /sys/kernel/livepatch/livepatch_sample/enabled")
	tb.click(timeQ, "Settle")
	tb.waitText(transQ, "No transition in progress.")
	tb.typeLine("rmmod livepatch_sample")
	tb.click(".builder", "Declare and insmod")
	tb.waitText(consoleQ, "livepatch lp-imm immediate", "insmod lp-imm")
	tb.waitText(logQ, "'lp_imm': starting patching transition", "'lp_imm': patching complete")
	tb.waitText(transQ, "No transition in progress.")
	tb.waitText(patchesQ, "lp_imm")
	if ps := eval[string](tb, `__t.pg().session.view().Tasks.find((t) => t.PID === 42).PatchState + ""`); ps != "-1" {
		t.Errorf("cat's patch_state after the immediate patch: %s, want -1 (it never left IDLE)", ps)
	}
}

func TestSpawnTask(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(tasksQ, "Spawn task")
	tb.set(".spawn input[type=text]", "worker")
	tb.set(".spawn input[aria-label^='New task: kernel stack']", "do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show")
	tb.click(".spawn", "Spawn")
	tb.waitText(consoleQ, "task 100 worker state=S stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show")
	tb.waitText(card(100), "100 worker", "sleeping (S)", "cmdline_proc_show", "patch_state")
}

func TestForkDuringTransition(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	// bash (43) has switched: its child starts patched
	tb.click(card(43), "Act on 43")
	tb.click(card(43), "fork")
	tb.waitText(consoleQ, "fork 43", "forked pid 100")
	tb.waitText(card(100), "100 bash", "patch_state 1 KLP_TRANSITION_PATCHED")
	// a task that has not switched passes patch_state 0 and the pending flag on
	tb.typeLine("task 44 reader stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show+0x10")
	tb.waitText(card(44), "44 reader")
	tb.click(card(44), "Act on 44")
	tb.click(card(44), "fork")
	tb.waitText(card(101), "101 reader", "patch_state 0 KLP_TRANSITION_UNPATCHED", "TIF_PATCH_PENDING")
}

func TestFakeSignalUnblocks(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitText(card(42), "Blocked: is sleeping on function cmdline_proc_show")
	tb.waitText(transQ, "next automatic fake signal", "in 14.848 s")
	tb.typeLine("settle 16")
	tb.waitText(logQ, "livepatch: signaling remaining tasks", "'livepatch_sample': patching complete")
	tb.waitText(transQ, "No transition in progress.")
	tb.waitText(card(42), "patch_state -1 KLP_TRANSITION_IDLE")
	tb.waitNoText(card(42), "Blocked:")
	tb.waitText("", "t = 15.840 s")
}

// TestUntilEvent: the transition panel's "until fake signal" and the
// timebar's Until… menu run time to the next event of a kind, and show the
// line they equal in the console.
func TestUntilEvent(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitText(transQ, "next automatic fake signal", "in 14.848 s")
	tb.do(`(window.__ev = [], __t.pg().session.subscribe((evs) => __ev.push(...evs.map((e) => e.Kind + ":" + e.PID))), "")`)
	tb.click(transQ, "until fake signal")
	tb.waitJS(`__ev.includes("signal:42") && __ev.includes("switch:42")`, "subscribe to report task 42's fake signal and switch")
	tb.waitText(consoleQ, "until signal", "signal event after 14.848s: cat:42 gets a fake signal and wakes")
	tb.waitText(logQ, "livepatch: signaling remaining tasks")
	tb.waitText(card(42), "patch_state 1 KLP_TRANSITION_PATCHED")
	tb.waitText("", "t = 14.848 s")
	tb.click(timeQ, "Until…")
	tb.waitJS(`!__t.q(".untilmenu").hidden && __t.root().activeElement === __t.q(".untilmenu button")`, "the Until… menu to open with its first entry focused")
	tb.click(".untilmenu", "the transition completes")
	tb.waitText(consoleQ, "until switch reason=complete", "switch event after 0.992s: klp_complete_transition: every task switched")
	tb.waitText(transQ, "No transition in progress.")
	tb.waitText("", "t = 15.840 s")
	tb.waitJS(`__t.q(".untilmenu").hidden`, "the Until… menu to close after a choice")
	// "u" opens it from the keyboard, Escape closes it
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("u")); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`!__t.q(".untilmenu").hidden`, "u to open the Until… menu")
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`__t.q(".untilmenu").hidden && __t.root().activeElement === __t.q(".until button.disclose")`, "Escape to close the menu and focus its button")
	tb.click(timeQ, "Until…")
	tb.click(".untilmenu", "a checker alarm")
	tb.waitText(consoleQ, "until alarm", "no alarm event within 60s")
	tb.waitText("", "t = 75.840 s")
}

func TestReverse(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(transQ, "reverse (disable)")
	tb.waitText(consoleQ, "echo 0 > "+lp+"/enabled")
	tb.waitText(transQ, "livepatch_sample is unpatching (reverting)")
	tb.waitText(logQ, "reversing transition from patching to unpatching")
	tb.click(timeQ, "Settle")
	tb.waitText(transQ, "No transition in progress.")
	tb.waitText(logQ, "'livepatch_sample': unpatching complete")
	tb.waitText(patchesQ, "No livepatch loaded.")
}

const forceScenario = `kernel 6.16
cpus 2
vmlinux do_syscall_64 ksys_read vfs_read seq_read cmdline_proc_show/0x30 meminfo_proc_show/0x40 schedule
livepatch lp-both
  object vmlinux
    func cmdline_proc_show -> lp_cmdline_proc_show/0x30
    func meminfo_proc_show -> lp_meminfo_proc_show/0x40
end
task 42 cat state=S stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show+0x1a>schedule
insmod lp-both.ko
`

func TestForceThenAlarm(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.do(fmt.Sprintf(`(() => { __t.pg().load(%s); return ""; })()`, jsString(forceScenario)))
	tb.waitText(transQ, "lp_both is patching")
	tb.waitText(alarmsQ, "0 alarms")
	tb.click(transQ, "force")
	tb.waitText(consoleQ, "echo 1 > /sys/kernel/livepatch/lp_both/force")
	tb.waitText(logQ, "forcing remaining tasks to the patched state")
	// the forced task still runs the old cmdline_proc_show, then calls
	// meminfo_proc_show and gets the new one
	tb.click(card(42), "Act on 42")
	tb.click(card(42), "wake")
	tb.click(card(42), "ret")
	tb.set(card(42)+" form.call input", "meminfo_proc_show")
	tb.click(card(42)+" form.call", "call")
	tb.waitText(consoleQ, "call 42 meminfo_proc_show")
	tb.waitText(alarmsQ, "1 alarm", "ALARM", "cat:42 runs lp_both's meminfo_proc_show and an older cmdline_proc_show")
	tb.waitFrames(42, "new lp_meminfo_proc_show+0x10/0x40 [lp_both] from lp_both (called as meminfo_proc_show)", "old cmdline_proc_show+0x1a/0x30")
}

func TestUndoWithSlider(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	for i := 1; i <= 3; i++ {
		tb.click(timeQ, "Step")
		tb.waitText("", fmt.Sprintf("t = %d.000 s", i))
	}
	tb.waitText(timeQ, "step 3 of 3: tick 250")
	tb.set(`.timebar input[type=range]`, "1")
	tb.waitText("", "t = 1.000 s")
	tb.waitText(timeQ, "step 1 of 3: tick 250")
	tb.waitText(consoleQ, "timeline: back at step 1")
	tb.click(timeQ, "◀ Undo")
	tb.waitText("", "t = 0.000 s")
	tb.click(timeQ, "Redo ▶")
	tb.waitText("", "t = 1.000 s")
	// "[" goes back too
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("[")); err != nil {
		t.Fatal(err)
	}
	tb.waitText("", "t = 0.000 s")
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("]")); err != nil {
		t.Fatal(err)
	}
	tb.waitText("", "t = 1.000 s")
	// an action here forks the timeline: the two later steps are gone
	tb.typeLine("fork 43")
	tb.waitText(timeQ, "step 2 of 2: fork 43")
	tb.waitText("", "t = 1.000 s")
	if !eval[bool](tb, `__t.q(".timebar button[title^='Forward']").disabled`) {
		t.Error("Redo is enabled after forking")
	}
}

func TestShareLinkRoundTrip(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.click(card(43), "Act on 43")
	tb.click(card(43), "fork")
	tb.click(timeQ, "Step")
	tb.waitText("", "t = 1.000 s")
	tb.waitText(card(100), "100 bash")
	want := eval[string](tb, `__t.view()`)
	tb.clickID("share")
	tb.waitJS(`document.getElementById("share-out").value.includes("#s=v1.")`, "the share link")
	link := eval[string](tb, `document.getElementById("share-out").value`)
	if !strings.HasPrefix(link, siteURL+"/#s=v1.") {
		t.Fatalf("share link %q", link)
	}

	other := newTab(t)
	other.open(link)
	other.waitText(card(100), "100 bash")
	other.waitText("", "t = 1.000 s")
	if got := eval[string](other, `__t.view()`); got != want {
		t.Errorf("view after the round trip differs:\n got %s\nwant %s", got, want)
	}
	if s := eval[string](other, `document.getElementById("page-status").innerText`); !strings.Contains(s, "Opened the session from the link") {
		t.Errorf("status: %q", s)
	}
	if eval[bool](other, `!document.getElementById("banner").hidden`) {
		t.Errorf("banner shown for a good link: %q", eval[string](other, `document.getElementById("banner").innerText`))
	}
}

func deflateLink(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return "v1." + base64.RawURLEncoding.EncodeToString(b.Bytes())
}

func TestHostileLinks(t *testing.T) {
	cases := []struct{ name, frag, why string }{
		{"garbage", "garbage", "unknown link format"},
		{"bad base64", "v1.!!!***", "not base64url"},
		{"not deflate", "v1.AAAAAAAA", "damaged"},
		{"empty", "v1.", "holds no data"},
		{"bomb", deflateLink(strings.Repeat("\x00", 3<<20)), "expands to more than"},
		// 100 MB of zeros in a link short enough to be decoded: stopped
		// once the output passes the cap
		{"bomb in size", deflateLink(strings.Repeat("\x00", 100<<20)), "expands to more than"},
		// links over the length cap (a 1.4 MB bomb and 800 KB of noise
		// are in tests/node) are refused before decoding. They are pasted
		// into the open page (made there: DevTools takes seconds per
		// 100 KB of URL to carry it to a navigation).
		{"long bomb", `"v1." + "7f".repeat(150 << 10)`, "too long"},
		{"long noise", `"v1." + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(60000))).repeat(4)).replace(/[+/=]/g, "A")`, "too long"},
		{"bad scenario", deflateLink("cpus 2\nfrobnicate 7\n"), "frobnicate"},
		// priced before it runs: refused at once, none of its tasks made
		{"over budget", deflateLink("vmlinux a b c\n" + strings.Repeat("spawn-random 100000\n", 5)), "tasks limit"},
		{"binary", deflateLink("\xff\xfe\xfd"), "not UTF-8"},
		{"bad UTF-8", deflateLink("task 1 \xc0\xaf\n"), "not UTF-8"},
		{"script markup", deflateLink(`task 1 "<img src=x onerror=alert(1)>"` + "\n<script>alert(1)</script>\n"), "could not be opened"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t)
			start := time.Now()
			if strings.HasPrefix(c.frag, `"`) {
				tb.open(siteURL + "/")
				start = time.Now()
				eval[bool](tb, `(location.hash = "s=" + `+c.frag+`, true)`)
			} else {
				tb.open(siteURL + "/#s=" + c.frag)
			}
			tb.waitJS(`!document.getElementById("banner").hidden`, "the error banner")
			// (includes DevTools carrying the URL: the decoder itself
			// answers in milliseconds, see tests/node)
			t.Logf("page ready with its message after %v", time.Since(start).Round(time.Millisecond))
			s := eval[string](tb, `document.getElementById("banner").innerText`)
			if !strings.Contains(s, "This link could not be opened") || !strings.Contains(s, c.why) {
				t.Errorf("banner: %q, want it to say %q", s, c.why)
			}
			// a working page with the default scenario
			tb.waitText(card(42), "42 cat")
			tb.typeLine("cat /proc/42/patch_state")
			tb.waitJS(`[...__t.root().querySelectorAll(".transcript .line")].some((l) => l.innerText === "0")`, "the console to work")
			if n := eval[int](tb, `document.querySelectorAll("img").length + __t.root().querySelectorAll("img, script").length`); n != 0 {
				t.Errorf("markup from the link became elements (%d)", n)
			}
		})
	}
}

func TestProfileSwitch(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.set(`select[aria-label="Kernel profile"]`, "4.16")
	tb.waitText(".diffs", "differences from the newest kernel")
	tb.waitText(consoleQ, "kernel profile 6.16 → 4.16")
	tb.waitText(card(42), "patch_state 0 KLP_UNPATCHED")
	tb.waitText(logQ, "klp_check_stack: cat:42 is sleeping on function cmdline_proc_show")
	tb.waitText(transQ, "send fake signals")
	tb.click(transQ, "send fake signals")
	tb.waitText(consoleQ, "echo 1 > "+lp+"/signal")
}

func TestPhoneWidthStacksPanels(t *testing.T) {
	tb := newTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	tb.open(siteURL + "/")
	lefts := eval[[]float64](tb, `[...__t.root().querySelectorAll(".grid .panel:not([hidden])")].map((p) => Math.round(p.getBoundingClientRect().left))`)
	for _, l := range lefts {
		if l != lefts[0] {
			t.Errorf("panels are not stacked at phone width: left edges %v", lefts)
			break
		}
	}
	if w := eval[float64](tb, `document.documentElement.scrollWidth - window.innerWidth`); w > 1 {
		t.Errorf("page scrolls sideways by %vpx at phone width", w)
	}
}

func TestWidgetsShareOneWasm(t *testing.T) {
	tb := newTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(siteURL+"/test/widgets.html")); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`document.querySelectorAll("klp-playground").length === 2 &&
		[...document.querySelectorAll("klp-playground")].every((w) => w.session && w.shadowRoot.querySelector(".grid"))`, "both widgets")
	a := `document.getElementById("a").shadowRoot`
	b := `document.getElementById("b").shadowRoot`
	// panels attribute: a has tasks, goals and console only
	if n := eval[int](tb, a+`.querySelectorAll(".grid .panel").length`); n != 3 {
		t.Errorf("widget a has %d panels, want 3 (goals, tasks, console)", n)
	}
	if s := eval[string](tb, a+`.querySelector(".panel.goals").innerText`); !strings.Contains(s, "✓ done: transition none") || !strings.Contains(s, "○ not yet: task 7 state=D") {
		t.Errorf("goals panel shows %q", s)
	}
	// reaching the goal is announced to the page
	tb.do(`(() => { window.__done = null; document.addEventListener("klp-goals", (e) => { window.__done = e.detail.done; }); return ""; })()`)
	tb.do(`(() => { document.getElementById("a").session.exec("block 7 D"); return ""; })()`)
	tb.waitJS(`window.__done === true`, "klp-goals with done=true")
	tb.waitJS(`document.getElementById("a").shadowRoot.querySelector(".panel.goals").innerText.includes("✓ done: task 7 state=D")`, "the second goal done")
	if s := eval[string](tb, a+`.querySelector(".panel.tasks").innerText`); !strings.Contains(s, "7 inline") {
		t.Errorf("widget a (inline <template> scenario) shows %q", s)
	}
	// scenario-src and profile
	if s := eval[string](tb, b+`.querySelector(".panel.tasks").innerText`); !strings.Contains(s, "44 reader") {
		t.Errorf("widget b (scenario-src) shows %q", s)
	}
	if v := eval[string](tb, b+`.querySelector('select[aria-label="Kernel profile"]').value`); v != "6.4" {
		t.Errorf("widget b profile = %q, want 6.4", v)
	}
	// one wasm download and one Go runtime for both
	if n := eval[int](tb, `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/klp.wasm")).length`); n != 1 {
		t.Errorf("klp.wasm fetched %d times", n)
	}
	if eval[bool](tb, `document.getElementById("a").session.id === document.getElementById("b").session.id`) {
		t.Error("the widgets share a session")
	}
	// the page declares color-scheme: dark, the widgets follow it
	if !eval[bool](tb, a+`.querySelector(".klp").classList.contains("theme-dark")`) {
		t.Error("widget a did not follow the page's dark scheme")
	}
}

func TestPlayPause(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.set(`select[aria-label^="Speed"]`, "16")
	tb.click(timeQ, "Play")
	tb.waitText(timeQ, "Pause")
	// at 16 simulated seconds per second the fake signal comes quickly
	tb.waitText(logQ, "'livepatch_sample': patching complete")
	tb.click(timeQ, "Pause")
	tb.waitText(timeQ, "Play")
	tb.waitText(consoleQ, "playing: ×")
	tb.waitJS(`/step 1 of 1: play/.test(__t.text(".timebar"))`, "one checkpoint for the whole play")
	// the compacted share link of a played session rebuilds the same view
	want := eval[string](tb, `__t.view()`)
	tb.clickID("share")
	tb.waitJS(`document.getElementById("share-out").value.includes("#s=v1.")`, "the share link")
	other := newTab(t)
	other.open(eval[string](tb, `document.getElementById("share-out").value`))
	if got := eval[string](other, `__t.view()`); got != want {
		t.Errorf("played session did not round-trip:\n got %s\nwant %s", got, want)
	}
}

func TestExampleAndImport(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.ID("examples"), "force.klp")); err != nil {
		t.Fatal(err)
	}
	tb.do(`(() => { document.getElementById("examples").dispatchEvent(new Event("change")); return ""; })()`)
	tb.waitText(alarmsQ, "1 alarm")
	tb.waitJS(`document.getElementById("page-status").innerText.includes("Forcing a transition")`, "the status line")

	// import a scenario file through the file input
	dir := t.TempDir()
	file := dir + "/mine.klp"
	if err := os.WriteFile(file, []byte("cpus 3\nvmlinux a b\ntask 77 imported stack=a>b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.ID("import"), []string{file})); err != nil {
		t.Fatal(err)
	}
	tb.waitText(card(77), "77 imported")
	tb.waitText(".panel.cpus", "CPU 2")
	// a broken file gives the banner and keeps the machine
	bad := dir + "/bad.klp"
	if err := os.WriteFile(bad, []byte("cpus 2\nnonsense here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.ID("import"), []string{bad})); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`!document.getElementById("banner").hidden && document.getElementById("banner").innerText.includes("bad.klp could not be loaded: scenario:2:1")`, "the import error")
	tb.waitText(card(77), "77 imported")
}

// A page on another origin embeds the widget with one script tag; the
// widget finds its wasm, styles and runtime next to widget.js.
func TestWidgetCrossOrigin(t *testing.T) {
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>elsewhere</title>
<link rel="icon" href="data:,">
<script type="module" src="` + siteURL + `/widget.js"></script></head>
<body><klp-playground id="pg" panels="tasks,transition"></klp-playground></body></html>`
	u := crossOriginPage(t, page)
	tb := newTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`document.getElementById("pg").session && document.getElementById("pg").shadowRoot.querySelector(".panel.tasks")`, "the widget to load the default scenario")
	tb.install()
	tb.waitText(card(42), "42 cat")
	tb.waitText(transQ, "livepatch_sample is patching")
	if bg := eval[string](tb, `getComputedStyle(__t.q(".panel")).borderTopStyle`); bg != "solid" {
		t.Errorf("widget.css not applied across origins (border style %q)", bg)
	}
}

// Lesson pages (rendered by the lessons package) embed the widget with
// the scenario in pre.klp-fallback and the reference solution in
// pre.klp-solution-text; running the solution meets the goals and is
// remembered on the syllabus.
func TestLessonPage(t *testing.T) {
	tb := newTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(siteURL+"/lessons/index.html")); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`document.readyState === "complete"`, "the syllabus")
	first := eval[string](tb, `(document.querySelector("li.klp-syllabus-item a") || {}).href || ""`)
	if first == "" {
		t.Fatal("no lessons in this build (lessons.BuildSite missing)")
	}
	lesson := eval[string](tb, `document.querySelector("li.klp-syllabus-item").dataset.lesson`)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(first)); err != nil {
		t.Fatal(err)
	}
	w := `document.querySelector("klp-playground[data-step]")`
	tb.waitJS(w+`.session && `+w+`.shadowRoot.querySelector(".panel.goals h2")`, "the lesson's widget")
	if s := eval[string](tb, w+`.shadowRoot.querySelector(".panel.goals h2").innerText`); !strings.Contains(s, "met") || strings.Contains(s, "all met") {
		t.Fatalf("goals before the solution: %q", s)
	}
	tb.do(`(() => { const r = ` + w + `.shadowRoot; r.querySelector("details.solution").open = true;
		const b = [...r.querySelectorAll("details.solution button")].find((b) => b.textContent === "Run it"); if (!b) return "no Run it"; b.click(); return ""; })()`)
	tb.waitJS(w+`.shadowRoot.querySelector(".panel.goals h2").innerText.includes("all met")`, "the goals to be met by the reference solution")
	if hints := eval[int](tb, `document.querySelectorAll(".klp-hint-button").length`); hints == 0 {
		t.Error("hints were not turned into a reveal button")
	}
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(siteURL+"/lessons/index.html")); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(fmt.Sprintf(`(document.querySelector('span.klp-progress[data-lesson="%s"]') || {}).textContent !== undefined &&
		document.querySelector('span.klp-progress[data-lesson="%s"]').textContent.length > 0`, lesson, lesson), "progress on the syllabus")
}

// pollUntil evaluates a JavaScript condition every 20 ms (no sleeping for
// a guessed time) until it holds; after limit it fails with describe's
// account of what was awaited.
func pollUntil(tb *tab, cond string, limit time.Duration, describe func(lastErr error) string) {
	tb.t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`); } catch (e) { return false; } })()`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || tb.ctx.Err() != nil {
			tb.t.Fatalf("timed out after %v waiting for %s", limit, describe(err))
		}
		select {
		case <-tick.C:
		case <-tb.ctx.Done():
		}
	}
}

// crossOriginPage serves page from another origin than the site (localhost
// instead of 127.0.0.1) with a strict CSP that allows the site, as a docs
// site that embeds the widget would, and returns its URL.
func crossOriginPage(t *testing.T, page string) string {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' "+siteURL+
			"; style-src 'self' "+siteURL+"; connect-src 'self' "+siteURL+"; img-src data:")
		io.WriteString(w, page)
	}))
	t.Cleanup(other.Close)
	return strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
}
