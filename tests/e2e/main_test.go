//go:build !js

// Package e2e drives the built playground in Debian's Chromium with
// chromedp and checks what the page shows.
//
// TestMain builds the site with cmd/build into a temporary directory
// (or uses KLP_DIST if set), serves it on 127.0.0.1 with the same CSP as
// cmd/serve, and starts one headless browser; each test opens its own tab.
// Without a browser the tests skip, unless KLP_REQUIRE_BROWSER=1, when they
// fail (so CI cannot go green without running them).
//
//	go test ./tests/e2e
//	KLP_REQUIRE_BROWSER=1 go test -timeout 600s ./tests/e2e
//
// KLP_CPU_THROTTLE=4 runs every tab four times slower (Chrome's CPU
// throttling), to find tests that pass only on a fast machine.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// csp is cmd/serve's policy, so the tests catch inline scripts or styles
// and wasm compilation problems the way the real server would.
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'self'"

var (
	siteURL     string          // http://127.0.0.1:PORT
	browserCtx  context.Context // the started browser; tabs derive from it
	chromePath  string
	setupErr    error // why the browser or the site is missing
	chromeLog   strings.Builder
	chromeLogMu sync.Mutex
)

// chromeWriter collects the browser's stderr for failure messages.
type chromeWriter struct{}

func (chromeWriter) Write(p []byte) (int, error) {
	chromeLogMu.Lock()
	defer chromeLogMu.Unlock()
	if chromeLog.Len() < 1<<20 {
		chromeLog.Write(p)
	}
	return len(p), nil
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func findChromium() string {
	if p := os.Getenv("KLP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func run(m *testing.M) int {
	chromePath = findChromium()
	if chromePath == "" {
		setupErr = fmt.Errorf("no Chromium found (install it with apt-get install -y chromium, or set KLP_CHROMIUM)")
		return m.Run() // every test skips or fails through needBrowser
	}
	dist := os.Getenv("KLP_DIST")
	if dist == "" {
		tmp, err := os.MkdirTemp("", "klp-e2e-dist-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dist = filepath.Join(tmp, "dist")
		// -br=false: brotli takes ~10 s and the browser test does not need it.
		cmd := exec.Command("go", "run", "./cmd/build", "-out", dist, "-br=false")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the site failed:", err)
			return 1
		}
	}
	srv := httptest.NewServer(handler(dist))
	defer srv.Close()
	siteURL = srv.URL

	udd, err := os.MkdirTemp("", "klp-e2e-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(udd)
	defer perfCleanup() // what the benchmarks of perf_test.go started
	actx, acancel := chromedp.NewExecAllocator(context.Background(), browserOptions(udd)...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// No timeout on this first Do: its context owns the browser.
	if err := chromedp.Do(bctx); err != nil {
		setupErr = fmt.Errorf("starting %s: %v\n%s", chromePath, err, chromeLog.String())
	} else {
		browserCtx = bctx
	}
	return m.Run()
}

// browserOptions starts Chromium headless with a profile in udd.
func browserOptions(udd string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromePath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(udd),
		chromedp.WindowSize(1280, 1000),
		chromedp.CombinedOutput(chromeWriter{}),
	}
}

// handler serves the built site like cmd/serve does where it matters
// here: CSP on documents, correct types (mime knows .wasm), no caching
// surprises. testdata/ is served under /test/ for the widget page.
func handler(dist string) http.Handler {
	site := http.FileServer(http.Dir(dist))
	test := http.StripPrefix("/test/", http.FileServer(http.Dir("testdata")))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if p := r.URL.Path; p == "/" || strings.HasSuffix(p, ".html") {
			w.Header().Set("Content-Security-Policy", csp)
		} else {
			// as cmd/serve: assets may be used by pages on other origins
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		if strings.HasPrefix(r.URL.Path, "/test/") {
			test.ServeHTTP(w, r)
			return
		}
		site.ServeHTTP(w, r)
	})
}

// needBrowser skips (or fails, with KLP_REQUIRE_BROWSER=1) without one.
func needBrowser(t testing.TB) {
	t.Helper()
	if browserCtx != nil {
		return
	}
	if os.Getenv("KLP_REQUIRE_BROWSER") == "1" {
		t.Fatalf("KLP_REQUIRE_BROWSER=1 but the browser is not available: %v", setupErr)
	}
	t.Skipf("no browser: %v", setupErr)
}

// tab is one browser tab for one test.
type tab struct {
	t   testing.TB
	ctx context.Context // with the test's deadline

	mu    sync.Mutex
	msgs  []string // console errors and exceptions
	close func()   // closes the tab and reports its console errors (once)
}

// newTab opens a tab whose console errors fail the test at cleanup.
func newTab(t testing.TB) *tab {
	t.Helper()
	return newTabIn(t, browserCtx, 120*time.Second)
}

// newTabIn opens a tab in the browser of bctx whose steps must finish
// within limit.
func newTabIn(t testing.TB, bctx context.Context, limit time.Duration) *tab {
	t.Helper()
	needBrowser(t)
	tctx, tcancel := chromedp.NewContext(bctx)
	// Create the target before deriving a deadline from it; a deadline on
	// the creating context would close the tab when it fires.
	if err := chromedp.Do(tctx); err != nil {
		tcancel()
		t.Fatalf("opening a tab: %v", err)
	}
	// KLP_CPU_THROTTLE=N runs the page N times slower, as on a loaded CI
	// machine: sliced runs then take more slices, which a test must not
	// assume away.
	if r, err := strconv.ParseFloat(os.Getenv("KLP_CPU_THROTTLE"), 64); err == nil && r > 1 {
		if _, err := chromedp.Call(tctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: r}); err != nil {
			tcancel()
			t.Fatalf("throttling the tab's CPU: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(tctx, limit)
	tb := &tab{t: t, ctx: ctx}
	msgs := chromedp.Console(tctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				tb.mu.Lock()
				tb.msgs = append(tb.msgs, m.String()+" @ "+m.URL)
				tb.mu.Unlock()
			}
		}
	}()
	tb.close = sync.OnceFunc(func() {
		cancel()
		tcancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, m := range tb.msgs {
			t.Errorf("browser console: %s", m)
		}
	})
	t.Cleanup(tb.close)
	return tb
}

// prelude gives the tests short names for reaching into the widget's
// shadow root. DevTools evaluation is not subject to the page's CSP.
const prelude = `window.__t = {
  pg: () => document.getElementById("pg"),
  root: () => __t.pg().shadowRoot,
  q: (sel) => __t.root().querySelector(sel),
  text: (sel) => { const e = sel ? __t.q(sel) : __t.root().querySelector(".klp"); return e ? e.innerText : ""; },
  has: (sel, s) => __t.text(sel).includes(s),
  click: (scope, label) => {
    const s = scope ? __t.q(scope) : __t.root();
    if (!s) return "no element " + scope;
    const b = [...s.querySelectorAll("button, summary")].find((b) => b.textContent.trim() === label);
    if (!b) return "no button " + JSON.stringify(label) + " in " + scope;
    if (b.disabled) return "button " + JSON.stringify(label) + " is disabled";
    b.click();
    return "";
  },
  set: (sel, value) => {
    const e = __t.q(sel);
    if (!e) return "no element " + sel;
    e.value = value;
    e.dispatchEvent(new Event("input", { bubbles: true }));
    e.dispatchEvent(new Event("change", { bubbles: true }));
    return "";
  },
  type: (line) => {
    const ta = __t.q("textarea.cmd");
    ta.value = line;
    ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    return "";
  },
  view: () => JSON.stringify(__t.pg().session.view()),
};
true`

// open navigates and waits until the page has loaded its scenario.
func (tb *tab) open(url string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("navigate %s: %v", url, err)
	}
	tb.waitJS(`document.body && document.body.dataset.ready === "true"`, "the page to finish loading")
	tb.install()
}

func (tb *tab) install() {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](prelude)); err != nil {
		tb.t.Fatalf("installing the test helpers: %v", err)
	}
}

// eval runs JavaScript and decodes its result.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// evalAwait is eval of an expression that gives a promise: its value is
// what the promise resolves to.
func evalAwait[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// do runs a helper that returns "" on success or what went wrong.
func (tb *tab) do(js string) {
	tb.t.Helper()
	if msg := eval[string](tb, js); msg != "" {
		tb.t.Fatalf("%s: %s\npage shows:\n%s", js, msg, tb.pageText())
	}
}

func (tb *tab) pageText() string {
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(window.__t ? __t.text() : "") + "\n---\n" + document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(page text unavailable: %v)", err)
	}
	return s
}

// waitJS polls a JavaScript condition until it is true. The page's CSP
// forbids new Function, which chromedp.Poll uses, so the loop is here; it
// polls every 20 ms rather than sleeping for a guessed time.
// waitLimit is how long waitJS waits: 30 s, times KLP_CPU_THROTTLE.
func waitLimit() time.Duration {
	if r, err := strconv.ParseFloat(os.Getenv("KLP_CPU_THROTTLE"), 64); err == nil && r > 1 {
		return time.Duration(r * float64(30*time.Second))
	}
	return 30 * time.Second
}

func (tb *tab) waitJS(cond, what string) {
	tb.t.Helper()
	deadline := time.Now().Add(waitLimit())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`); } catch (e) { return false; } })()`))
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) || tb.ctx.Err() != nil {
			tb.t.Fatalf("timed out waiting for %s (%s; last error %v)\npage shows:\n%s", what, cond, lastErr, tb.pageText())
		}
		select {
		case <-tick.C:
		case <-tb.ctx.Done():
		}
	}
}

// waitText waits until the element (a CSS selector in the widget, "" for
// all of it) shows every one of the strings.
func (tb *tab) waitText(sel string, want ...string) {
	tb.t.Helper()
	conds := make([]string, len(want))
	for i, w := range want {
		conds[i] = fmt.Sprintf("__t.has(%s, %s)", jsString(sel), jsString(w))
	}
	tb.waitJS(strings.Join(conds, " && "), fmt.Sprintf("%q to show %q", sel, want))
}

// waitNoText waits until the element no longer shows s.
func (tb *tab) waitNoText(sel, s string) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf("!__t.has(%s, %s)", jsString(sel), jsString(s)), fmt.Sprintf("%q to stop showing %q", sel, s))
}

// waitFrames waits until the task's stack shows these frames (role label
// and text, as the page writes them), in this order, innermost first.
func (tb *tab) waitFrames(pid int, want ...string) {
	tb.t.Helper()
	w, _ := json.Marshal(want)
	tb.waitJS(fmt.Sprintf(`(() => {
		const got = [...__t.q('li.task[data-pid="%d"]').querySelectorAll("li.frame")].map((f) => f.textContent.replace(/\s+/g, " ").trim());
		const want = %s;
		let i = 0;
		for (const g of got) if (i < want.length && g === want[i]) i++;
		return i === want.length;
	})()`, pid, w), fmt.Sprintf("task %d's stack to show %q", pid, want))
}

func (tb *tab) click(scope, label string) {
	tb.t.Helper()
	tb.do(fmt.Sprintf("__t.click(%s, %s)", jsString(scope), jsString(label)))
}

// clickID clicks the page's element with that id as a pointer does
// (moving to it first, so hover handlers run).
func (tb *tab) clickID(id string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		tb.t.Fatalf("clicking #%s: %v", id, err)
	}
}

func (tb *tab) set(sel, value string) {
	tb.t.Helper()
	tb.do(fmt.Sprintf("__t.set(%s, %s)", jsString(sel), jsString(value)))
}

// typeLine runs a line through the console input, as a user would.
func (tb *tab) typeLine(line string) {
	tb.t.Helper()
	tb.do(fmt.Sprintf("__t.type(%s)", jsString(line)))
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf("__t.text(%s)", jsString(sel)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
