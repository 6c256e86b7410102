package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// bigScenario is within the budget but takes seconds to run in the wasm:
// the page must run it in slices and stay responsive meanwhile.
func bigScenario(spawns int) string {
	return "vmlinux f1 f2 f3 f4 f5 f6\n" + strings.Repeat("spawn-random 20000 frames=8\n", spawns) + "sleep 20\n"
}

// shareLink makes the page's own share link for text.
func (tb *tab) shareLink(text string) string {
	tb.t.Helper()
	js := fmt.Sprintf(`import("./lib/share.js").then((m) => m.linkFor(%s))`, jsString(text))
	href, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("making a share link: %v", err)
	}
	return href
}

// TestBigLinkLoadsInSlices: a link to a big scenario opens a slice at a
// time — the page answers while it runs (a test reads its progress note
// through the page's main thread, which a single long call would block
// until the end) — and Cancel, clicked while another big link loads,
// keeps the session shown.
func TestBigLinkLoadsInSlices(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	link := tb.shareLink(bigScenario(5))
	// as a person pasting the link into a new tab
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`typeof customElements !== "undefined" && !!customElements.get("klp-playground")`, "the widget")
	tb.install()
	// seen part-way: the page drew the note and answered us in between
	tb.waitJS(`(() => { const n = __t.root()?.querySelector(".loadnote"); return !!n && +n.dataset.started > 0 && /statement \d+ of 7/.test(n.textContent); })()`, "the progress note part-way through the load")
	tb.waitJS(`document.body.dataset.ready === "true"`, "the page to finish loading")
	tb.waitText("", "100000")
	if n := eval[int](tb, `JSON.parse(__t.view()).Tasks.length`); n < 100000 {
		t.Fatalf("loaded %d tasks, want the link's 100,000 and more", n)
	}
	if eval[bool](tb, `!!__t.root().querySelector(".loadnote")`) {
		t.Error("the progress note stays after the load")
	}
	before := eval[string](tb, `__t.pg().source()`)

	// another big link, cancelled through its note's button
	other := tb.shareLink(bigScenario(4))
	tb.do(fmt.Sprintf(`(location.href = %s, "")`, jsString(other)))
	tb.waitJS(`!!__t.root().querySelector(".loadnote button")`, "the progress note's Cancel button")
	tb.shot(".loadnote", "load-progress")
	tb.click(".loadnote", "Cancel")
	tb.waitJS(`!document.getElementById("banner").hidden`, "the banner saying the load was cancelled")
	if b := eval[string](tb, `document.getElementById("banner-text").textContent`); !strings.Contains(b, "cancelled") || !strings.Contains(b, "kept") {
		t.Errorf("banner after cancel: %q", b)
	}
	if after := eval[string](tb, `__t.pg().source()`); after != before {
		t.Errorf("cancelling the load changed the session")
	}
	if eval[bool](tb, `!!__t.root().querySelector(".loadnote")`) {
		t.Error("the progress note stays after cancel")
	}
}

// TestLongConsoleCommandInSlices: a long command typed into the console
// runs a slice at a time — the test reads the page mid-run, the prompt
// busy and the task list already growing — a panel button pressed
// meanwhile says the simulator is busy instead of interleaving, and a
// command typed meanwhile runs after it.
func TestLongConsoleCommandInSlices(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	before := eval[int](tb, `JSON.parse(__t.view()).Tasks.length`)
	tb.do(`__t.type("spawn-random 100000 frames=16")`)
	tb.waitJS(fmt.Sprintf(`__t.q("textarea.cmd").getAttribute("aria-busy") === "true" && JSON.parse(__t.view()).Tasks.length > %d`, before), "the prompt busy while the task list grows")
	if n := eval[int](tb, `JSON.parse(__t.view()).Tasks.length`); n >= before+100000 {
		t.Errorf("the whole command ran before the page could be read (%d tasks)", n)
	}
	tb.click(card(42), "Act on 42")
	tb.click(card(42), "wake")
	tb.waitText(card(42)+" .action-error", "still running the console's last command")
	tb.do(`__t.type("spawn-random 3 frames=0")`) // typed ahead
	tb.waitJS(`!__t.q("textarea.cmd").hasAttribute("aria-busy")`, "both commands to finish")
	if n := eval[int](tb, `JSON.parse(__t.view()).Tasks.length`); n != before+100003 {
		t.Errorf("%d tasks after the commands, want %d", n, before+100003)
	}
	src := eval[string](tb, `__t.pg().source()`)
	if strings.Contains(src, "wake 42") {
		t.Error("a button pressed during the command ran in the middle of it")
	}
	if i, j := strings.Index(src, "spawn-random 100000"), strings.Index(src, "spawn-random 3 "); i < 0 || j < i {
		t.Errorf("the commands ran out of order:\n%s", src)
	}
}
