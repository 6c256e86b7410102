//go:build !js

// Performance benchmarks of the playground in headless Chromium on
// loopback. They measure and report; nothing here asserts a timing (the
// targets are in the README's Performance section, with the numbers).
//
// BenchmarkPageLoad: navigation → interactive (bridge ready, default
// scenario rendered), served by cmd/serve with the precompressed files of a
// full cmd/build. BenchmarkPlay2000: frame times while time plays with
// 2,000 tasks. BenchmarkSweepInBrowser: core/sim's own BenchmarkSweep,
// compiled for js/wasm and run in a page, against the same benchmark
// natively. An iteration is one page load, one 5 s window of playing,
// and one pair of sweep runs (each -count 5) respectively, so:
//
//	go test -run '^$' -bench PageLoad -benchtime 20x ./tests/e2e
//	go test -run '^$' -bench Play2000 -benchtime 3x ./tests/e2e
//	go test -run '^$' -bench SweepInBrowser -benchtime 1x ./tests/e2e
//
// The details (breakdowns, the longest frames) are printed to stdout.
// The site is built with brotli (~15 s) unless KLP_DIST names a build
// that has klp.wasm.br. KLP_PERF_GCFLAGS overrides the -gcflags the sweep
// benchmark compiles core/sim with (default: as cmd/build does).

package e2e

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

// wasmGCFlags must match cmd/build's buildWasm, so that the benchmarked
// core is compiled as the site's is.
const wasmGCFlags = ""

// perf holds what the benchmarks share: the built site and cmd/serve.
var perf struct {
	once  sync.Once
	err   error
	tmp   string
	url   string
	serve *exec.Cmd
}

// perfCleanup stops cmd/serve and removes the build (called by TestMain).
func perfCleanup() {
	if perf.serve != nil && perf.serve.Process != nil {
		_ = perf.serve.Process.Kill()
		_ = perf.serve.Wait()
	}
	if perf.tmp != "" {
		os.RemoveAll(perf.tmp)
	}
}

// perfSite returns the URL of cmd/serve serving a complete build.
func perfSite(b *testing.B) string {
	b.Helper()
	needBrowser(b)
	perf.once.Do(func() { perf.err = startPerfSite() })
	if perf.err != nil {
		b.Fatal(perf.err)
	}
	return perf.url
}

func startPerfSite() error {
	tmp, err := os.MkdirTemp("", "klp-perf-")
	if err != nil {
		return err
	}
	perf.tmp = tmp
	dist := os.Getenv("KLP_DIST")
	if _, err := os.Stat(filepath.Join(dist, "klp.wasm.br")); dist == "" || err != nil {
		dist = filepath.Join(tmp, "dist")
		if err := goCmd(repoRoot, nil, "run", "./cmd/build", "-out", dist); err != nil {
			return fmt.Errorf("building the site: %w", err)
		}
	}
	if dist, err = filepath.Abs(dist); err != nil {
		return err
	}
	serveBin := filepath.Join(tmp, "serve")
	if err := goCmd(repoRoot, nil, "build", "-o", serveBin, "./cmd/serve"); err != nil {
		return fmt.Errorf("building cmd/serve: %w", err)
	}
	cmd := exec.Command(serveBin, "-root", dist, "-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	perf.serve = cmd
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`on (http://\S+?)/?$`)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case u, ok := <-addr:
		if !ok {
			return fmt.Errorf("cmd/serve exited without serving")
		}
		perf.url = u
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("cmd/serve did not start within 30 s")
	}
}

// goCmd runs the go command in dir with extra environment.
func goCmd(dir string, env []string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// report prints one line of a benchmark's findings. testing keeps only
// the first 10 lines a benchmark logs, so the details go to stdout.
func report(b *testing.B, format string, a ...any) {
	fmt.Printf("    %s: %s\n", b.Name(), fmt.Sprintf(format, a...))
}

// --- statistics ---------------------------------------------------------------

// quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

type stats struct{ n, median, p95, max, mean float64 }

func summarize(v []float64) stats {
	s := slices.Clone(v)
	slices.Sort(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	st := stats{n: float64(len(s)), median: quantile(s, 0.5), p95: quantile(s, 0.95)}
	if len(s) > 0 {
		st.max, st.mean = s[len(s)-1], sum/float64(len(s))
	}
	return st
}

func (s stats) String() string {
	return fmt.Sprintf("median %.1f ms, p95 %.1f ms, max %.1f ms, mean %.1f ms (n=%d)", s.median, s.p95, s.max, s.mean, int(s.n))
}

// poll evaluates a JavaScript condition until it holds or limit passes.
func poll(tb *tab, cond, what string, limit time.Duration) {
	tb.t.Helper()
	pollUntil(tb, cond, limit, func(err error) string {
		return fmt.Sprintf("%s (%s; last error %v)", what, cond, err)
	})
}

// --- navigation → interactive ---------------------------------------------------

// readyProbe runs in every new document of the tab before the page's own
// scripts. It notes when app.js marks the page ready (the bridge is up and
// the default scenario rendered: body[data-ready]) and when the frame
// after that has been produced. performance.now() counts from the start
// of the navigation.
const readyProbe = `(() => {
  const p = window.__perf = { ready: 0, painted: 0, goStart: 0, calls: {}, fmp: 0 };
  // first meaningful paint: the frame in which a task's lane is drawn
  // (from cmd/build's first-paint data, before the wasm, when it works)
  const fmp = () => {
    const pg = document.getElementById("pg");
    if (pg && pg.shadowRoot && pg.shadowRoot.querySelector(".panel.timeline g.lane.task")) { p.fmp = performance.now(); return; }
    requestAnimationFrame(fmp);
  };
  requestAnimationFrame(fmp);
  // Time the bridge's functions until the page is ready: Go sets
  // globalThis.klp (from main), runtime.js replaces it with its facade.
  let api;
  Object.defineProperty(globalThis, "klp", { configurable: true, get: () => api, set: (v) => {
    if (v && !v.__timed) {
      if (!p.goStart) p.goStart = performance.now();
      for (const [k, f] of Object.entries(v)) {
        if (typeof f !== "function") continue;
        v[k] = (...a) => { const t = performance.now(); try { return f(...a); } finally { if (!p.ready) p.calls[k] = (p.calls[k] || 0) + performance.now() - t; } };
      }
      v.__timed = true;
    }
    api = v;
  } });
  const check = () => {
    if (p.ready || !document.body || document.body.dataset.ready !== "true") return false;
    p.ready = performance.now();
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { p.painted = performance.now(); };
      ch.port2.postMessage(0);
    });
    return true;
  };
  new MutationObserver((_, o) => { if (check()) o.disconnect(); })
    .observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
})();`

type loadTiming struct {
	GoMain      float64            // Go's main set globalThis.klp
	Calls       map[string]float64 // ms spent in each bridge function before ready
	FMP         float64            // navigation start → a task's lane drawn
	Ready       float64            // navigation start → body[data-ready]
	Painted     float64            // … → the next frame
	DCL         float64            // DOMContentLoaded end
	WasmStart   float64
	WasmEnd     float64 // klp.wasm fully received
	WasmBytes   float64 // bytes on the wire
	WasmDecoded float64
	KlpLoad     float64 // runtime.js: start() → klp-ready
}

const loadTimingJS = `(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const w = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/klp.wasm")) || {};
  return { FMP: __perf.fmp, GoMain: __perf.goStart, Calls: __perf.calls, Ready: __perf.ready, Painted: __perf.painted, DCL: nav.domContentLoadedEventEnd,
    WasmStart: w.startTime || 0, WasmEnd: w.responseEnd || 0, WasmBytes: w.encodedBodySize || 0,
    WasmDecoded: w.decodedBodySize || 0, KlpLoad: (globalThis.klp && klp.loadMs) || 0 };
})()`

// loadOnce navigates tb to url and returns the timing of that load.
func loadOnce(tb *tab, url string) loadTiming {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("navigate: %v", err)
	}
	poll(tb, `window.__perf && __perf.painted > 0`, "the page to become interactive", 60*time.Second)
	return eval[loadTiming](tb, loadTimingJS)
}

// prepareLoadTab installs the probe, and with cold set, turns the HTTP
// cache off (so every load fetches and compiles klp.wasm again).
func prepareLoadTab(tb *tab, cold bool) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: readyProbe}); err != nil {
		tb.t.Fatal(err)
	}
	if cold {
		if _, err := chromedp.Call(tb.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			tb.t.Fatal(err)
		}
	}
}

// freshBrowser starts a browser with a new profile; done stops it and
// removes the profile.
func freshBrowser(b *testing.B) (context.Context, func()) {
	b.Helper()
	udd, err := os.MkdirTemp("", "klp-perf-chromium-")
	if err != nil {
		b.Fatal(err)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), browserOptions(udd)...)
	bctx, bcancel := chromedp.NewContext(actx)
	done := func() { bcancel(); acancel(); os.RemoveAll(udd) }
	if err := chromedp.Do(bctx); err != nil {
		done()
		b.Fatalf("starting a browser: %v", err)
	}
	return bctx, done
}

// BenchmarkPageLoad measures navigation → interactive. Each run starts a
// fresh browser (new profile) and reports its first load separately
// (first-ready-ms); then every iteration is one load in a new tab:
// cold-cache with the HTTP cache off (klp.wasm fetched and compiled each
// time), warm-cache a reload with the cache on (a returning visitor).
func BenchmarkPageLoad(b *testing.B) {
	site := perfSite(b)
	for _, cold := range []bool{true, false} {
		name := "cold-cache"
		if !cold {
			name = "warm-cache"
		}
		b.Run(name, func(b *testing.B) {
			bctx, done := freshBrowser(b)
			defer done()
			first := newTabIn(b, bctx, 5*time.Minute)
			prepareLoadTab(first, cold)
			f := loadOnce(first, site+"/")
			var all []loadTiming
			var warm *tab
			if !cold {
				warm = first // reloads in the tab that filled the cache
			}
			if cold {
				first.close()
			}
			for b.Loop() {
				tb := warm
				if tb == nil {
					tb = newTabIn(b, bctx, 5*time.Minute)
					prepareLoadTab(tb, cold)
				}
				all = append(all, loadOnce(tb, site+"/"))
				if tb != warm {
					tb.close() // one page at a time, as a visitor has
				}
			}
			b.StopTimer()
			pick := func(f func(loadTiming) float64) stats {
				v := make([]float64, len(all))
				for i, t := range all {
					v[i] = f(t)
				}
				return summarize(v)
			}
			ready := pick(func(t loadTiming) float64 { return t.Ready })
			painted := pick(func(t loadTiming) float64 { return t.Painted })
			fmp := pick(func(t loadTiming) float64 { return t.FMP })
			b.ReportMetric(fmp.median, "first-paint-median-ms")
			b.ReportMetric(fmp.p95, "first-paint-p95-ms")
			b.ReportMetric(ready.median, "ready-median-ms")
			b.ReportMetric(ready.p95, "ready-p95-ms")
			b.ReportMetric(painted.median, "painted-median-ms")
			b.ReportMetric(f.Ready, "first-ready-ms")
			report(b, "%s, %d loads of %s/", name, len(all), site)
			report(b, "first load in a fresh browser: ready %.1f ms, painted %.1f ms (wasm received at %.1f ms, %.0f bytes on the wire)", f.Ready, f.Painted, f.WasmEnd, f.WasmBytes)
			report(b, "navigation → first meaningful paint (a task lane drawn): %v", fmp)
			report(b, "navigation → ready:   %v", ready)
			report(b, "navigation → painted: %v", painted)
			report(b, "DOMContentLoaded:     %v", pick(func(t loadTiming) float64 { return t.DCL }))
			report(b, "klp.wasm requested:   %v", pick(func(t loadTiming) float64 { return t.WasmStart }))
			report(b, "klp.wasm received:    %v", pick(func(t loadTiming) float64 { return t.WasmEnd }))
			report(b, "runtime start → klp-ready (fetch, compile, Go init): %v", pick(func(t loadTiming) float64 { return t.KlpLoad }))
			report(b, "Go main sets klp:     %v", pick(func(t loadTiming) float64 { return t.GoMain }))
			names := map[string]bool{}
			for _, t := range all {
				for k := range t.Calls {
					names[k] = true
				}
			}
			for _, k := range slices.Sorted(maps.Keys(names)) {
				report(b, "  in klp.%-12s %v", k+":", pick(func(t loadTiming) float64 { return t.Calls[k] }))
			}
			if len(all) > 0 {
				report(b, "klp.wasm: %.0f bytes on the wire, %.0f decoded", all[0].WasmBytes, all[0].WasmDecoded)
			}
		})
	}
}

// --- frames while playing ---------------------------------------------------------

// playProbe instruments the session of the page's widget: every play tick
// (the exec of "tick N" and the console's transcript of it), every
// re-render (Session.emit: the view and every panel; while playing they
// are coalesced, see web/lib/session.js) and the bridge calls inside them
// are timed; a requestAnimationFrame loop records frame intervals, and a
// PerformanceObserver the long animation frames with their scripts.
const playProbe = `(() => {
  const s = document.getElementById("pg").session;
  const P = window.__play = { on: false, t0: 0 };
  const api = s.api;
  const time = (fn, key) => (...a) => { const t = performance.now(); try { return fn(...a); } finally { if (P.on) P[key].push(performance.now() - t); } };
  for (const k of ["exec", "view", "viewPacked", "viewDelta", "events", "log"]) api[k] = time(api[k], k === "viewPacked" || k === "viewDelta" ? "view" : k);
  const exec = s.exec.bind(s);
  // Staleness: every play tick changes the state at a moment of real time
  // and advances simulated time; a render shows the state as of then, and
  // its pixels are out after the next frame. latency = tick → those
  // pixels (ms of real time); stale = simulated time run minus simulated
  // time shown, sampled at every frame (simulated ms).
  P.simNow = 0; P.simShown = 0; P.pending = [];
  s.exec = (line, opts) => {
    const t = performance.now();
    // The tick counts from its start: a render may run inside exec.
    const play = opts && opts.from === "play";
    if (play) {
      const m = /^tick (\d+)/.exec(line);
      if (m) P.simNow += (Number(m[1]) * 1e3) / (s.hz || 250);
      if (P.on) P.pending.push(t);
    }
    try {
      const r = exec(line, opts);
      if (P.on) P.lines.push(r.output.length);
      return r;
    } finally {
      if (play && P.on) P.ticks.push(performance.now() - t);
    }
  };
  const emit = s.emit.bind(s);
  s.emit = (rewind) => {
    const t = performance.now();
    try { return emit(rewind); } finally {
      if (P.on) {
        P.render.push(performance.now() - t);
        P.simShown = P.simNow;
        const covered = P.pending.splice(0);
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => { const now = performance.now(); for (const c of covered) P.latency.push(now - c); };
          ch.port2.postMessage(0);
        });
      }
    }
  };
  const view = s.view.bind(s);
  s.view = () => { if (s._view) return s._view; const t = performance.now(); const r = view(); if (P.on) P.parse.push(performance.now() - t); return r; };
  let last = 0;
  const loop = (ts) => { if (P.on && last) { P.frames.push(ts - last); P.stale.push(P.simNow - P.simShown); } last = ts; requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  // long animation frames, with the scripts that ran in them
  try {
    new PerformanceObserver((l) => {
      if (!P.on) return;
      for (const e of l.getEntries()) {
        if (e.startTime < P.t0) continue; // reported late, from before the window
        P.long.push(e.duration);
        P.loaf.push({ at: e.startTime - P.t0, ms: e.duration, layout: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0,
          scripts: (e.scripts || []).map((x) => ({ ms: x.duration, what: x.invoker + " " + (x.sourceFunctionName || "") })) });
      }
    }).observe({ type: "long-animation-frame" });
  } catch {}
  P.start = () => {
    for (const k of ["frames", "ticks", "render", "exec", "view", "events", "log", "parse", "long", "lines", "loaf", "latency", "stale"]) P[k] = [];
    P.t0 = performance.now();
    P.on = true;
  };
  P.start();
  P.on = false;
  P.stop = () => { P.on = false; P.t1 = performance.now(); return true; };
  return true;
})()`

// longFrame is a long animation frame (over 50 ms) and what ran in it.
type longFrame struct {
	At, Ms, Layout float64
	Scripts        []struct {
		Ms   float64
		What string
	}
}

// playSeries are the series playProbe records, in milliseconds except
// lines (output lines per exec).
var playSeries = []string{"frames", "ticks", "render", "exec", "view", "parse", "events", "log", "long", "lines", "latency", "stale"}

type playResult struct {
	Series    map[string][]float64
	LoAF      []longFrame
	Elapsed   float64 // ms of playing measured
	Tasks     int
	JSONBytes int // klp.view
	Packed    int // klp.viewPacked
}

// BenchmarkPlay2000 plays simulated time with 2,000 extra tasks
// (spawn-random 2000, 16 frames each) on the default scenario, at the
// default speed (1×: a tick of 25 jiffies every 100 ms) and at 16×, and
// reports frame intervals (requestAnimationFrame deltas: p95 ≤ 33 ms is
// 30 fps) and the cost of each play tick. Each iteration is one window of
// 5 s of real time, after 2 s of warm-up.
func BenchmarkPlay2000(b *testing.B) { playBench(b, 2000) }

// BenchmarkPlay10000 is BenchmarkPlay2000 with 10,000 extra tasks.
func BenchmarkPlay10000(b *testing.B) { playBench(b, 10000) }

func playBench(b *testing.B, tasks int) {
	site := perfSite(b)
	for _, speed := range []string{"1", "16"} {
		b.Run("speed-"+speed, func(b *testing.B) {
			tb := newTabIn(b, browserCtx, 5*time.Minute)
			tb.open(site + "/")
			tb.do(fmt.Sprintf(`(() => { const r = __t.pg().session.exec("spawn-random %d"); return r.error || ""; })()`, tasks))
			tb.set(`select[aria-label^="Speed"]`, speed)
			tb.do(`(() => { ` + playProbe + `; return ""; })()`)
			tb.click(timeQ, "Play")
			// warm up: V8 tiers the hot wasm and JS up during the first ticks
			poll(tb, `__t.pg().session.playing && __t.pg().session.view().Jiffies > 0`, "playing", 5*time.Minute)
			tb.do(`(() => { __play.warm = performance.now(); return ""; })()`)
			poll(tb, `performance.now() - __play.warm > 2000`, "2 s of warm-up", time.Minute)
			all := playResult{Series: map[string][]float64{}}
			for b.Loop() {
				tb.do(`(() => { __play.start(); return ""; })()`)
				poll(tb, `performance.now() - __play.t0 >= 5000`, "5 s of playing", 5*time.Minute)
				tb.do(`(() => { __play.stop(); return ""; })()`)
				r := eval[playResult](tb, `(() => {
					const P = __play, s = __t.pg().session, series = {};
					for (const k of `+jsString(strings.Join(playSeries, ","))+`.split(",")) series[k] = P[k];
					return { Series: series, LoAF: P.loaf.map((f) => ({ At: f.at, Ms: f.ms, Layout: f.layout, Scripts: f.scripts.map((x) => ({ Ms: x.ms, What: x.what })) })), Elapsed: P.t1 - P.t0, Tasks: s.view().Tasks.length, JSONBytes: s.api.raw.view(s.id).length, Packed: s.api.raw.viewPacked(s.id).length };
				})()`)
				for k, v := range r.Series {
					all.Series[k] = append(all.Series[k], v...)
				}
				all.Elapsed += r.Elapsed
				all.LoAF = append(all.LoAF, r.LoAF...)
				all.Tasks, all.JSONBytes, all.Packed = r.Tasks, r.JSONBytes, r.Packed
			}
			b.StopTimer()
			tb.click(timeQ, "Pause")
			sum := func(k string) stats { return summarize(all.Series[k]) }
			fr := sum("frames")
			fps := float64(len(all.Series["frames"])) / (all.Elapsed / 1000)
			b.ReportMetric(fr.median, "frame-median-ms")
			b.ReportMetric(fr.p95, "frame-p95-ms")
			b.ReportMetric(fps, "fps")
			b.ReportMetric(float64(len(all.Series["render"]))/(all.Elapsed/1000), "renders/s")
			b.ReportMetric(sum("render").median, "render-median-ms")
			b.ReportMetric(sum("latency").p95, "change-to-pixels-p95-ms")
			b.ReportMetric(sum("stale").median, "stale-median-sim-ms")
			report(b, "speed %s×, %d tasks, view JSON %d bytes (packed %d), %.1f s of playing", speed, all.Tasks, all.JSONBytes, all.Packed, all.Elapsed/1000)
			report(b, "frame interval: %v → %.1f fps", fr, fps)
			report(b, "state change (play tick) → its pixels: %v", sum("latency"))
			report(b, "staleness (simulated ms run but not yet shown, per frame): %v", sum("stale"))
			report(b, "play tick (exec, console): %v", sum("ticks"))
			report(b, "  klp.exec (the simulation, its output): %v", sum("exec"))
			report(b, "  output lines per tick: median %.0f, max %.0f", sum("lines").median, sum("lines").max)
			report(b, "render (view, every panel): %v; %.1f per second", sum("render"), float64(len(all.Series["render"]))/(all.Elapsed/1000))
			report(b, "  klp.viewDelta (the tasks that changed, encoded): %v", sum("view"))
			report(b, "  session.view (klp.view + JSON.parse): %v", sum("parse"))
			report(b, "  klp.events: %v", sum("events"))
			report(b, "  klp.log: %v", sum("log"))
			report(b, "long animation frames (> 50 ms): %d", len(all.LoAF))
			slices.SortFunc(all.LoAF, func(x, y longFrame) int { return cmp.Compare(y.Ms, x.Ms) })
			for _, f := range all.LoAF[:min(5, len(all.LoAF))] {
				var what []string
				for _, sc := range f.Scripts {
					what = append(what, fmt.Sprintf("%.0f ms %s", sc.Ms, sc.What))
				}
				report(b, "  %.0f ms at %.0f ms (style and layout %.0f ms): %s", f.Ms, f.At, f.Layout, strings.Join(what, "; "))
			}
		})
	}
}

// --- the sweep: browser vs native -------------------------------------------------

var benchLine = regexp.MustCompile(`(?m)^BenchmarkSweep(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func parseSweeps(out string) []float64 {
	var v []float64
	for _, m := range benchLine.FindAllStringSubmatch(out, -1) {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil {
			v = append(v, f/1e6)
		}
	}
	return v
}

// BenchmarkSweepInBrowser runs core/sim's BenchmarkSweep (one
// klp_try_complete_transition over 100,000 tasks × 16 frames against a
// patch of 1,000 functions; see sweepFixture) natively and, compiled with
// the site's flags for js/wasm, in a page of the browser
// (testdata/perf/gotest.html runs the test binary with wasm_exec.js). Both
// use -benchtime 10x -count 5: every count runs the sweep 11 times, so
// V8 has tiered the code up long before the later counts. It reports the
// medians and their ratio.
func BenchmarkSweepInBrowser(b *testing.B) {
	needBrowser(b)
	gcflags := wasmGCFlags
	if f, ok := os.LookupEnv("KLP_PERF_GCFLAGS"); ok {
		gcflags = f
	}
	tmp := b.TempDir()
	wasm := filepath.Join(tmp, "sim.test.wasm")
	args := []string{"test", "-c", "-trimpath", "-ldflags=-s -w", "-o", wasm}
	if gcflags != "" {
		args = append(args, "-gcflags="+gcflags)
	}
	if err := goCmd(repoRoot, []string{"GOOS=js", "GOARCH=wasm"}, append(args, "./core/sim")...); err != nil {
		b.Fatalf("building core/sim's tests for js/wasm: %v", err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/perf/", http.StripPrefix("/perf/", http.FileServer(http.Dir("testdata/perf"))))
	mux.HandleFunc("/perf/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	})
	mux.HandleFunc("/perf/sim.test.wasm", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, wasm) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Cross-origin isolation gives performance.now() (Go's clock in
		// wasm) 5 µs resolution instead of 100 µs.
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	benchArgs := []string{"-test.run=^$", "-test.bench=^BenchmarkSweep$", "-test.benchtime=10x", "-test.count=5"}
	var browser, native []float64
	for b.Loop() {
		tb := newTabIn(b, browserCtx, 10*time.Minute)
		u := srv.URL + "/perf/gotest.html?wasm=sim.test.wasm"
		for _, a := range benchArgs {
			u += "&arg=" + url.QueryEscape(a)
		}
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(u)); err != nil {
			b.Fatal(err)
		}
		poll(tb, `window.goExit !== null`, "the test binary to finish", 10*time.Minute)
		out := eval[string](tb, `window.goOutput`)
		if code := eval[int](tb, `window.goExit`); code != 0 {
			b.Fatalf("test binary exited with %d:\n%s", code, out)
		}
		if !eval[bool](tb, `crossOriginIsolated`) {
			report(b, "note: the page is not cross-origin isolated; timer resolution is 100 µs")
		}
		browser = append(browser, parseSweeps(out)...)
		tb.close()
		cmd := exec.Command("go", append([]string{"test", "-run", "^$", "-bench", "^BenchmarkSweep$", "-benchtime", "10x", "-count", "5"}, "./core/sim")...)
		cmd.Dir = repoRoot
		cmd.Stderr = os.Stderr
		nout, err := cmd.Output()
		if err != nil {
			b.Fatalf("native benchmark: %v\n%s", err, nout)
		}
		native = append(native, parseSweeps(string(nout))...)
	}
	b.StopTimer()
	if len(browser) == 0 || len(native) == 0 {
		b.Fatalf("no results (browser %v, native %v)", browser, native)
	}
	bs, ns := summarize(browser), summarize(native)
	b.ReportMetric(bs.median, "browser-ms/sweep")
	b.ReportMetric(ns.median, "native-ms/sweep")
	b.ReportMetric(bs.median/ns.median, "ratio")
	report(b, "gcflags %q; per sweep, each of -count 5 (the first count includes V8's tier-up):", gcflags)
	report(b, "  browser: %s", fmtMs(browser))
	report(b, "  native:  %s", fmtMs(native))
	report(b, "browser %.2f ms, native %.2f ms (medians): %.2f× native", bs.median, ns.median, bs.median/ns.median)
}

func fmtMs(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, " ") + " ms"
}
