//go:build !js

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestExploreButton: the Explore button searches the scenario's region in
// a Web Worker while the page stays usable, lists the broken property
// with its shortest counterexample, and the counterexample's link opens
// it in the playground, where replaying it raises the alarm.
func TestExploreButton(t *testing.T) {
	tb := exploreForce(t)
	tb.clickID("explore")
	tb.waitJS(`document.querySelector("#explore-dialog").open`, "the explore dialog to open")
	// the page's own thread is free while the worker searches
	tb.waitText(transQ, "livepatch_frob is patching")
	waitExplored(tb, "the consistency counterexample")
	// it was shown once while the search went on, then in the final list
	if n := eval[string](tb, `document.querySelector("#explore-dialog").dataset.found || ""`); n != "1" {
		t.Errorf("counterexamples shown while searching: %q, want 1", n)
	}
	if n := eval[int](tb, `document.querySelectorAll("#explore-dialog .explore-violation").length`); n != 1 {
		t.Errorf("%d counterexamples listed at the end, want the one", n)
	}
	got := eval[string](tb, `document.querySelector("#explore-dialog").textContent`)
	for _, want := range []string{"states/s", "Shortest counterexample, 4 steps: echo 1 > /sys/kernel/livepatch/livepatch_frob/force → wake 60 → ret 60 2 → call 60 frob_commit", "Held in every state explored: warning, invariant, hazard, expect, liveness"} {
		if !contains(got, want) {
			t.Errorf("dialog lacks %q:\n%s", want, got)
		}
	}
	if dir := os.Getenv("KLP_SCREENSHOTS"); dir != "" {
		buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "explore-dialog.png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	href := eval[string](tb, `document.querySelector("#explore-dialog .explore-violation a").href`)
	tb.open(href)
	tb.waitText(consoleQ, "call 60 frob_commit")
	tb.waitText(alarmsQ, "1 alarm")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestExploreWithoutARegion: the default example has no explore region
// (the core says so, through klp.cost): Explore explains how to add one
// and starts no search; the page goes on working.
func TestExploreWithoutARegion(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitJS(`!!window.klp && __t.pg().source().length > 0`, "the default example to load")
	tb.clickID("explore")
	tb.waitJS(`document.querySelector("#explore-dialog").open`, "the explore dialog to open")
	got := eval[string](tb, `document.querySelector("#explore-dialog .explore-status").textContent`)
	if !contains(got, "has no explore region") || !contains(got, "explore … end") {
		t.Errorf("dialog says %q, want how to add a region", got)
	}
	if eval[bool](tb, `document.getElementById("explore-cancel").disabled`) != true {
		t.Error("Cancel is enabled with no search to cancel")
	}
	tb.clickID("explore-close")
	// the same page then explores a scenario that has a region
	loadForce(t, tb)
	tb.clickID("explore")
	waitExplored(tb, "the counterexample after the no-region message")
}

// waitExplored waits for a search to end with the consistency
// counterexample listed and its link made (a counterexample is shown as
// soon as it is found, while the search goes on).
func waitExplored(tb *tab, what string) {
	tb.t.Helper()
	tb.waitJS(`/complete interleavings in/.test(document.querySelector("#explore-dialog .explore-status")?.textContent || "") &&
		document.querySelector("#explore-dialog .explore-violation")?.textContent.includes("consistency broken") &&
		document.querySelector("#explore-dialog .explore-violation a")?.getAttribute("href")`, what)
}

// exploreForce opens the playground on the explore-force example (a force
// against a worker's steps, in an explore region).
func exploreForce(t *testing.T) *tab {
	t.Helper()
	tb := newTab(t)
	tb.open(siteURL + "/")
	return loadForce(t, tb)
}

func loadForce(t *testing.T, tb *tab) *tab {
	t.Helper()
	src, err := os.ReadFile("../../web/examples/explore-force.klp")
	if err != nil {
		t.Fatal(err)
	}
	tb.do(fmt.Sprintf(`(() => { __t.pg().load(%s); return ""; })()`, jsString(string(src))))
	tb.waitText(transQ, "livepatch_frob is patching")
	return tb
}

// TestExploreKeepsItsWorker: opening a scenario with an explore region
// loads a worker once the page is idle and warms it up on the scenario
// (one without a region loads none);
// the first and second searches run in it, and a cancelled search's
// worker is gone: the next one loads a new worker and still finds the
// counterexample.
func TestExploreKeepsItsWorker(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	// The default example has no region: after two idle periods (the
	// page's prewarm waits for one), still no worker.
	if w := evalAwait[string](tb, `(async () => { for (let i = 0; i < 2; i++) await new Promise((r) => requestIdleCallback(r, { timeout: 5000 })); return document.getElementById("explore").dataset.worker || "none"; })()`); w != "none" {
		t.Fatalf("a scenario without an explore region loaded a worker (%s)", w)
	}
	loadForce(t, tb)
	tb.waitJS(`document.getElementById("explore").dataset.worker === "warm"`, "the worker loaded for the scenario's explore region, warmed up on it")
	// count the workers the page makes from now on
	tb.do(`(() => { const W = window.Worker; window.__workers = 0; window.Worker = class extends W { constructor(...a) { super(...a); window.__workers++; } }; return ""; })()`)
	search := func(what string) {
		t.Helper()
		tb.clickID("explore")
		waitExplored(tb, what)
		tb.clickID("explore-close")
	}
	search("the first search's counterexample")
	search("the second search's counterexample")
	if n := eval[int](tb, `window.__workers`); n != 0 {
		t.Errorf("two searches made %d workers, want none: the one loaded for the region serves both", n)
	}
	// cancelled: its worker is terminated, not kept (both clicks in one
	// task, so that the search cannot finish first)
	tb.do(`(() => { document.getElementById("explore").click(); document.getElementById("explore-cancel").click(); return ""; })()`)
	tb.waitJS(`document.querySelector("#explore-dialog .explore-status").textContent.endsWith("Cancelled.")`, "the search to be cancelled")
	tb.clickID("explore-close")
	search("a search after a cancel")
	if n := eval[int](tb, `window.__workers`); n != 1 {
		t.Errorf("after a cancel the page has made %d workers, want a new one", n)
	}
	// Close and Explore at once: the dialog's close event comes a task
	// later, and must not cancel the search the second click started
	// (it did, when a loaded machine let the next click in first)
	tb.clickID("explore")
	waitExplored(tb, "a search's counterexample")
	tb.do(`(() => { document.getElementById("explore-close").click(); document.getElementById("explore").click(); return ""; })()`)
	waitExplored(tb, "the counterexample of the search started at once after Close")
	if st := eval[string](tb, `document.querySelector("#explore-dialog .explore-status").textContent`); contains(st, "Cancelled") {
		t.Errorf("the search started right after Close was cancelled: %q", st)
	}
}

// TestExploreWorkerStopped: a worker whose Go runtime stopped (out of
// memory, say: it posts an error marked dead) is ended, not kept; the
// dialog says why, and the next search gets a new worker and works.
func TestExploreWorkerStopped(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	// The page's first worker answers its first search as a stopped one
	// would; it and later workers are real otherwise.
	tb.do(`(() => {
		const W = window.Worker;
		window.__workers = 0;
		window.__ended = 0;
		window.Worker = class extends W {
			constructor(...a) {
				super(...a);
				this.n = ++window.__workers;
			}
			postMessage(m) {
				if (this.n === 1 && m && m.src) {
					setTimeout(() => this.onmessage?.({ data: { type: "error", dead: true, message: "the search's WebAssembly runtime stopped (fatal error: out of memory); lower the region's bounds (steps=, memory=) and explore again" } }), 0);
					return;
				}
				super.postMessage(m);
			}
			terminate() {
				if (this.n === 1) window.__ended++;
				super.terminate();
			}
		};
		return "";
	})()`)
	loadForce(t, tb)
	tb.clickID("explore")
	tb.waitJS(`/cannot be explored: .*fatal error: out of memory/.test(document.querySelector("#explore-dialog .explore-status").textContent)`, "the dialog to say the runtime stopped")
	if n := eval[int](tb, `window.__ended`); n != 1 {
		t.Errorf("the stopped worker was ended %d times, want once", n)
	}
	if w := eval[string](tb, `document.getElementById("explore").dataset.worker || "none"`); w != "none" {
		t.Errorf("a stopped worker was kept (%s)", w)
	}
	tb.clickID("explore-close")
	tb.clickID("explore")
	waitExplored(tb, "the counterexample from a new worker")
	if n := eval[int](tb, `window.__workers`); n != 2 {
		t.Errorf("%d workers made, want the stopped one and a new one", n)
	}
	if w := eval[string](tb, `document.getElementById("explore").dataset.worker || "none"`); w == "none" {
		t.Error("the new worker was not kept after its search")
	}
}

// TestExploreNoWarmUpOnABigScenario: a scenario over the warm-up's limits
// (klp.cost: here 100 tasks more) gets a loaded worker but no warm-up,
// since each warm-up round would rerun its statements; the worker still
// serves the search.
func TestExploreNoWarmUpOnABigScenario(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	src, err := os.ReadFile("../../web/examples/explore-force.klp")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Replace(string(src), "\nexplore ", "\nspawn-random 100 frames=4\nexplore ", 1)
	if big == string(src) {
		t.Fatal("explore-force.klp has no explore line to put the tasks before")
	}
	tb.do(fmt.Sprintf(`(() => { __t.pg().load(%s); return ""; })()`, jsString(big)))
	tb.waitText(transQ, "livepatch_frob is patching")
	tb.waitJS(`document.getElementById("explore").dataset.worker === "cold"`, "the worker loaded for the region, not warmed up")
	tb.clickID("explore")
	waitExplored(tb, "the counterexample from the cold worker")
}

// TestExploreMemoryBoundWording: a search that stops at the memory bound
// says what would raise it — memory= on the explore line when the region's
// own bound was hit, and when the page's limit for this device was (here
// made 1 MB, as the worker is told), that memory= cannot, and klp explore
// can. Both searches are real.
func TestExploreMemoryBoundWording(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.do(`(() => {
		const W = window.Worker;
		window.Worker = class extends W {
			postMessage(m) {
				if (m && m.src && window.__memory) m = { ...m, memory: window.__memory };
				super.postMessage(m);
			}
		};
		return "";
	})()`)
	src, err := os.ReadFile("../../core/explore/testdata/bench.klp")
	if err != nil {
		t.Fatal(err)
	}
	status := `document.querySelector("#explore-dialog .explore-status").textContent`
	for _, c := range []struct {
		memory, page string
		want         string
	}{
		{"memory=1", "0", "memory=MB on the explore line raises the bound"},
		{"memory=100000", "1", "this page holds a search to 1 MB on this device, whatever memory= says; klp explore on the command line has no such limit"},
	} {
		tb.do(fmt.Sprintf(`(() => { window.__memory = %s; __t.pg().load(%s); return ""; })()`, c.page, jsString(strings.Replace(string(src), "explore steps=12", "explore steps=12 "+c.memory, 1))))
		tb.clickID("explore")
		tb.waitJS(status+`.includes("The memory bound was hit")`, "the search to stop at the memory bound ("+c.memory+")")
		if got := eval[string](tb, status); !strings.Contains(got, c.want) {
			t.Errorf("%s: the dialog says %q, want %q", c.memory, got, c.want)
		}
		tb.clickID("explore-close")
	}
}
