//go:build !js

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkExploreBrowser: the page's Explore button (a Web Worker with its
// own wasm) on core/explore/testdata/bench.klp, against `klp explore` on
// the same file natively: states per second of each, and their ratio
// (issue 12's target: the browser within 2× of native).
//
//	go test -run '^$' -bench ExploreBrowser -benchtime 3x ./tests/e2e
func BenchmarkExploreBrowser(b *testing.B) {
	site := perfSite(b)
	src, err := os.ReadFile(filepath.Join(repoRoot, "core/explore/testdata/bench.klp"))
	if err != nil {
		b.Fatal(err)
	}
	klp := filepath.Join(b.TempDir(), "klp")
	if err := goCmd(repoRoot, nil, "build", "-o", klp, "./cmd/klp"); err != nil {
		b.Fatal(err)
	}
	// "N states, M transitions, K complete interleavings in X s (R
	// states/s)" (the dialog) and "explored N states, … in X s (R
	// states/s)" (klp explore). The rate, not N/X: X has two decimals in
	// the dialog, too coarse for a search of a third of a second.
	pageRe := regexp.MustCompile(`([\d,]+) states, [\d,]+ transitions, \d+ complete interleavings in [\d.]+ s \(([\d,]+) states/s\)`)
	cliRe := regexp.MustCompile(`explored (\d+) states, .* in [\d.]+ s \((\d+) states/s\)`)
	parse := func(re *regexp.Regexp, s string) (states, rate float64) {
		m := re.FindStringSubmatch(s)
		if m == nil {
			b.Fatalf("no result in %q", s)
		}
		states, _ = strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
		rate, _ = strconv.ParseFloat(strings.ReplaceAll(m[2], ",", ""), 64)
		return states, rate
	}
	// openBench opens the page on bench.klp; search clicks Explore and
	// returns the wait from the click to the result, the states and rate.
	openBench := func() *tab {
		tb := newTabIn(b, browserCtx, 5*time.Minute)
		tb.open(site + "/")
		tb.do(fmt.Sprintf(`(() => { __t.pg().load(%s); return ""; })()`, jsString(string(src))))
		return tb
	}
	search := func(tb *tab, what string) (ms, states, rate float64) {
		clicked := time.Now()
		tb.clickID("explore")
		poll(tb, `/complete interleavings in/.test(document.querySelector("#explore-dialog .explore-status")?.textContent || "")`, what, 4*time.Minute)
		ms = float64(time.Since(clicked).Milliseconds())
		states, rate = parse(pageRe, eval[string](tb, `document.querySelector("#explore-dialog .explore-status").textContent`))
		return ms, states, rate
	}
	var page, warm, native, firstWall, readyWall, readyRate []float64
	for b.Loop() {
		// A reader who opened the scenario and clicked a while later:
		// the page loaded a worker for its explore region meanwhile, and
		// the worker warmed up on it.
		tb := openBench()
		tb.waitJS(`document.getElementById("explore").dataset.worker === "warm"`, "the worker loaded and warmed up for the region")
		ms0, _, r0 := search(tb, "the search to finish")
		readyWall, readyRate = append(readyWall, ms0), append(readyRate, r0)
		tb.close()

		// A click at once: the worker is still loading. The wait is what
		// the user waits, the wasm's load included.
		tb = openBench()
		ms, st, r := search(tb, "the search to finish")
		firstWall, page = append(firstWall, ms), append(page, r)
		// again, as a user re-running it: the page kept the worker
		tb.clickID("explore-close")
		_, st1, r1 := search(tb, "the second search to finish")
		if st1 != st {
			b.Fatalf("the second search explored %v states, the first %v", st1, st)
		}
		warm = append(warm, r1)
		tb.close()
		cmd := exec.Command(klp, "explore", filepath.Join(repoRoot, "core/explore/testdata/bench.klp"))
		out, _ := cmd.CombinedOutput() // the exit status is the search's verdict, not a failure here
		st2, r2 := parse(cliRe, string(out))
		if st2 != st {
			b.Fatalf("the page explored %v states, klp explore %v: not the same search", st, st2)
		}
		native = append(native, r2)
	}
	p, wm, n := summarize(page), summarize(warm), summarize(native)
	b.ReportMetric(p.median, "browser-states/s")
	b.ReportMetric(wm.median, "browser-again-states/s")
	b.ReportMetric(n.median, "native-states/s")
	b.ReportMetric(n.median/p.median, "native/browser")
	b.ReportMetric(n.median/wm.median, "native/browser-again")
	fw, rw, rr := summarize(firstWall), summarize(readyWall), summarize(readyRate)
	b.ReportMetric(fw.median, "first-click-to-result-ms")
	b.ReportMetric(rw.median, "ready-click-to-result-ms")
	report(b, "the first search, from the click to its result (the worker's load included): %v", fw)
	report(b, "the first search once the worker loaded for the region has warmed up: from the click %v; %.0f states/s", rw, rr.median)
	report(b, "browser %.0f states/s (the page's first search), %.0f (its second, in the kept worker), native %.0f states/s (medians of %d); native/browser %.2f first, %.2f again", p.median, wm.median, n.median, int(p.n), n.median/p.median, n.median/wm.median)
}
