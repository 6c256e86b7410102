//go:build !js

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The drawn views (web/lib/timeline.js, web/lib/stacks.js), asserted on
// what is drawn: SVG lanes, marks and boxes, found by their data-
// attributes, never by pixels. KLP_SCREENSHOTS=DIR also writes a PNG of
// each view there (docs/ holds the ones the README links).

const tlQ = ".panel.timeline"

// lane returns a selector for one timeline lane.
func lane(name string) string { return fmt.Sprintf(`%s g.lane[data-lane="%s"]`, tlQ, name) }

func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf("__t.root().querySelectorAll(%s).length", jsString(sel)))
}

func (tb *tab) waitCount(sel string, atLeast int) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf("__t.root().querySelectorAll(%s).length >= %d", jsString(sel), atLeast), fmt.Sprintf("%d× %s", atLeast, sel))
}

// shot writes a PNG of the element sel (in the widget) when
// KLP_SCREENSHOTS names a directory.
func (tb *tab) shot(sel, name string) {
	tb.t.Helper()
	dir := os.Getenv("KLP_SCREENSHOTS")
	if dir == "" {
		return
	}
	r := eval[[]float64](tb, fmt.Sprintf(`(() => { const e = __t.q(%s); e.scrollIntoView(); const r = e.getBoundingClientRect(); return [r.x + scrollX, r.y + scrollY, r.width, Math.min(r.height, 600)]; })()`, jsString(sel)))
	yes := true
	res, err := chromedp.Call(tb.ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{X: r[0], Y: r[1], Width: r[2], Height: r[3], Scale: 1},
		CaptureBeyondViewport: &yes,
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	buf := res.Data
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// TestTimelineDrawn: the default scenario's timeline has its lanes, the
// cursor follows the simulated time and the slider, switches are marked
// on the task's lane with what the core said, and going back leaves the
// later part drawn faded until an action forks it.
func TestTimelineDrawn(t *testing.T) {
	for _, c := range []struct {
		name   string
		w, h   int64
		scheme string
	}{{"desktop-light", 1280, 1000, "light"}, {"phone-dark", 390, 844, "dark"}} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t)
			if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(c.w, c.h)); err != nil {
				t.Fatal(err)
			}
			emulateScheme(tb, c.scheme)
			tb.open(siteURL + "/")
			for _, l := range []string{"transition", "cpu0", "cpu1", "group-user", "42", "43", "alarms"} {
				tb.waitCount(lane(l), 1)
			}
			// patch_state is drawn with a pattern as well as a colour
			if fill := eval[string](tb, `__t.q('`+tlQ+` g.lane[data-lane="42"] rect.seg').getAttribute("fill")`); !strings.Contains(fill, "-ps0)") {
				t.Errorf("task 42's lane fill = %q, want the unpatched pattern", fill)
			}
			cursorAt := func() string {
				return eval[string](tb, `__t.q("`+tlQ+` line.cursor").dataset.time + " " + __t.pg().session.view().Time`)
			}
			if a := strings.Fields(cursorAt()); a[0] != a[1] {
				t.Errorf("cursor at %s, simulated time %s", a[0], a[1])
			}
			tb.typeLine("settle 16")
			tb.waitText(transQ, "No transition in progress.")
			// cat:42 switched after its fake signal: a switch mark on its
			// lane, with the reason the core gave (sim.Switch.Reason)
			tb.waitCount(lane("42")+` g.mark[data-kind="switch"][data-reason="fake signal"]`, 1)
			// bash (43) switched in the first sweep, one event for many tasks
			tb.waitCount(lane("43")+` g.mark[data-kind="switch"][data-reason="stack check"]`, 1)
			// the idle tasks switched at the start (CPU 1's by the hook's
			// text poke, before the first sweep), in CPU order
			tb.waitCount(lane("idle1")+` g.mark[data-kind="switch"][data-reason="idle"]`, 1)
			tb.waitCount(lane("idle0")+` g.mark[data-kind="switch"][data-reason="stack check"]`, 1)
			if got := eval[string](tb, `[...__t.q("`+tlQ+`").querySelectorAll('g.lane[data-lane^="idle"]')].map((g) => g.dataset.lane).join(",")`); got != "idle0,idle1" {
				t.Errorf("idle lanes in the order %q, want idle0,idle1", got)
			}
			if got := eval[string](tb, `__t.q('`+lane("42")+` g.mark[data-kind="switch"] title').textContent`); !strings.Contains(got, "switched to") {
				t.Errorf("switch mark says %q", got)
			}
			tb.waitCount(lane("transition")+` g.mark`, 1)
			tb.waitCount(lane("42")+` g.mark[data-kind="signal"]`, 1)
			tb.waitJS(`__t.q("`+tlQ+` line.cursor").dataset.time === String(__t.pg().session.view().Time)`, "the cursor at the end")
			tb.shot(tlQ, "timeline-"+c.name)
			// no axis label is drawn over the cursor's (at the right edge
			// its label moves left, over the ticks before it)
			if over := eval[string](tb, `(() => {
				const svg = __t.q("`+tlQ+` svg.tl"), c = svg.querySelector("text.cursor-label").getBBox();
				return [...svg.querySelectorAll("text.tick")].filter((t) => { const b = t.getBBox(); return b.x < c.x + c.width && c.x < b.x + b.width; }).map((t) => t.textContent).join(", ");
			})()`); over != "" {
				t.Errorf("axis labels %s drawn over the cursor's label", over)
			}
			// a switch's reason near the right edge is drawn left of its
			// mark, and no axis label is cut there
			if cut := eval[string](tb, `(() => {
				const svg = __t.q("`+tlQ+` svg.tl"), w = Number(svg.getAttribute("width"));
				return [...svg.querySelectorAll("text.reason, text.tick")].filter((t) => { const b = t.getBBox(); return b.x + b.width > w + 0.5; }).map((t) => t.textContent).join(", ");
			})()`); cut != "" {
				t.Errorf("labels %s run past the timeline's right edge", cut)
			}
			end := eval[float64](tb, `Number(__t.q("`+tlQ+` line.cursor").getAttribute("x1"))`)
			// the slider is the cursor: back to the start, the future stays faded
			tb.set(`.timebar input[type=range]`, "0")
			tb.waitText("", "t = 0.000 s")
			tb.waitJS(`__t.q("`+tlQ+` line.cursor").dataset.time === String(__t.pg().session.view().Time) && __t.pg().session.view().Time < 1e6`, "the cursor at the start (the first step's end, within its jiffy)")
			if x := eval[float64](tb, `Number(__t.q("`+tlQ+` line.cursor").getAttribute("x1"))`); x >= end {
				t.Errorf("cursor x %v after going back, was %v", x, end)
			}
			tb.waitCount(tlQ+" rect.future", 1)
			tb.click(timeQ, "Fork from here")
			tb.waitJS(`!__t.q("`+tlQ+` rect.future")`, "the faded future to go after fork")
			if w := eval[float64](tb, `document.documentElement.scrollWidth - window.innerWidth`); w > 1 {
				t.Errorf("page scrolls sideways by %vpx", w)
			}
		})
	}
}

// TestTimelineAlarm: after a force, the task that mixes versions gets an
// alarm marker on its lane and in the alarms lane.
func TestTimelineAlarm(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.do(fmt.Sprintf(`(() => { __t.pg().load(%s); return ""; })()`, jsString(forceScenario)))
	tb.waitText(transQ, "lp_both is patching")
	if n := tb.count(lane("alarms") + " g.mark"); n != 0 {
		t.Errorf("%d alarm marks before the force", n)
	}
	tb.typeLine("echo 1 > /sys/kernel/livepatch/lp_both/force")
	tb.typeLine("wake 42")
	tb.typeLine("ret 42")
	tb.typeLine("call 42 meminfo_proc_show")
	tb.waitText(alarmsQ, "1 alarm")
	tb.waitCount(lane("alarms")+` g.mark[data-kind="alarm"]`, 1)
	tb.waitCount(lane("42")+` g.mark[data-kind="alarm"]`, 1)
	// the alarm is drawn where it happened: at the current time
	if a := eval[string](tb, `__t.q('`+lane("alarms")+` g.mark').dataset.time + " " + __t.pg().session.view().Time`); strings.Fields(a)[0] != strings.Fields(a)[1] {
		t.Errorf("alarm mark time, now: %s", a)
	}
	tb.shot(tlQ, "timeline-alarm")
}

// TestTimelineManyTasks: groups with many tasks fold into one summary
// lane, and unfolding draws only the lanes on screen.
func TestTimelineManyTasks(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.typeLine("spawn-random 2000")
	tb.waitJS(`__t.pg().session.view().Tasks.length > 2000`, "2000 tasks")
	tb.waitCount(lane("group-user"), 1)
	if n := tb.count(tlQ + " g.lane.task"); n > 10 {
		t.Errorf("%d task lanes drawn with the user group folded", n)
	}
	tb.do(`(() => { const b = __t.q('` + tlQ + ` button[data-group="user"]'); if (b.getAttribute("aria-expanded") !== "false") return "user group not folded"; b.click(); return ""; })()`)
	tb.waitCount(tlQ+" g.lane.task", 10)
	if n := tb.count(tlQ + " g.lane.task"); n > 80 {
		t.Errorf("%d task lanes drawn: only those on screen should be", n)
	}
	// the task list is virtual: only the cards on screen exist, and
	// scrolling it builds the next ones
	if n := tb.count("li.task"); n == 0 || n > 120 {
		t.Errorf("%d task cards built for 2002 tasks", n)
	}
	tb.do(`(() => { const s = __t.q(".tasks-scroll"); s.scrollTop = s.scrollHeight / 2; return ""; })()`)
	tb.waitJS(`[...__t.root().querySelectorAll("li.task")].some((c) => Number(c.dataset.pid) > 400)`, "cards further down after scrolling")
	if n := tb.count("li.task"); n > 120 {
		t.Errorf("%d task cards after scrolling", n)
	}
	tb.shot(".panel.tasks", "tasklist-virtual")
	// scrolling the lanes draws the next ones
	tb.do(`(() => { const s = __t.q(".tl-scroll"); s.scrollTop = 16 * 1000; s.dispatchEvent(new Event("scroll")); return ""; })()`)
	tb.waitJS(`[...__t.root().querySelectorAll("`+tlQ+` g.lane.task")].some((g) => Number(g.dataset.pid) > 900)`, "lanes further down after scrolling")
}

// TestFuncStackDrawn: a second patch on the same function is drawn on
// top of the first, the original at the bottom, and the tasks that run
// each box are named; the patch stack puts stack_order 1 at the bottom.
func TestFuncStackDrawn(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitCount(".fstack g.fbox", 2)
	// during the transition: cat (42) still runs the original
	tb.waitJS(`[...__t.root().querySelectorAll('.fstack[data-func="cmdline_proc_show"] g.fbox')].find((g) => g.classList.contains("orig")).querySelector("title").textContent.includes("42")`, "the original box to list task 42")
	tb.typeLine("settle 16")
	tb.click(patchesQ, "New livepatch…")
	tb.set(".builder input[type=text]", "lp-two")
	tb.click(".builder", "Declare and insmod")
	tb.waitText(consoleQ, "insmod lp-two")
	tb.waitCount(`.fstack[data-func="cmdline_proc_show"] g.fbox`, 3)
	labels := eval[[]string](tb, `(() => {
		const boxes = [...__t.root().querySelectorAll('.fstack[data-func="cmdline_proc_show"] g.fbox')];
		boxes.sort((a, b) => a.querySelector("rect").getAttribute("y") - b.querySelector("rect").getAttribute("y"));
		return boxes.map((g) => g.dataset.label);
	})()`)
	want := []string{"lp_two: lp_two_cmdline_proc_show", "livepatch_sample: livepatch_cmdline_proc_show", "original cmdline_proc_show"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Errorf("func_stack boxes top to bottom = %q, want %q", labels, want)
	}
	if !eval[bool](tb, `__t.q('.fstack g.fbox.top').classList.contains("transition")`) {
		t.Error("the new top entry is not marked in transition")
	}
	order := eval[[]string](tb, `(() => {
		const boxes = [...__t.root().querySelectorAll('.pstack g.pbox')];
		boxes.sort((a, b) => a.querySelector("rect").getAttribute("y") - b.querySelector("rect").getAttribute("y"));
		return boxes.map((g) => g.dataset.patch + ":" + g.dataset.order);
	})()`)
	if strings.Join(order, " ") != "lp_two:2 livepatch_sample:1" {
		t.Errorf("patch stack top to bottom = %q", order)
	}
	tb.waitText(patchesQ, "disabling: cmdline_proc_show → livepatch_sample's livepatch_cmdline_proc_show")
	tb.shot(".panel.funcstacks", "funcstack")
	tb.shot(".pstack", "patchstack")
}

// TestTaskStackCheckedFrame: the frame where the stack check stops is
// marked on the blocked task's stack.
func TestTaskStackCheckedFrame(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	tb.waitCount(card(42)+" li.frame.checked", 1)
	if got := eval[string](tb, `__t.q('`+card(42)+` li.frame.checked').textContent`); !strings.Contains(got, "cmdline_proc_show") {
		t.Errorf("checked frame = %q", got)
	}
	if n := tb.count(card(43) + " li.frame.checked"); n != 0 {
		t.Errorf("a switched task has %d checked frames", n)
	}
	tb.shot(card(42), "taskstack")
}

// TestFirstPaintBeforeWasm: with klp.wasm held back, the page already
// shows the starting state, drawn by the page's own panels from the data
// cmd/build wrote into it, with its controls inert and a note saying they
// wait; once the wasm arrives the live session takes over.
func TestFirstPaintBeforeWasm(t *testing.T) {
	base, release := wasmGate(t)
	tb := newTab(t)
	prepareLoadTab(tb, false) // __perf.fmp: when a task's lane was first drawn
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	tb.waitJS(`document.getElementById("pg") && document.getElementById("pg").shadowRoot && document.getElementById("pg").shadowRoot.querySelector('li.task[data-pid="42"]')`, "task 42 drawn before the wasm")
	tb.install()
	tb.waitText(card(42), "42 cat", "Blocked: is sleeping on function cmdline_proc_show")
	tb.waitCount(lane("42"), 1)
	tb.waitCount(".fstack g.fbox", 2)
	tb.waitText("", "The simulator is loading")
	if !eval[bool](tb, `__t.q(".grid").inert && __t.q(".timebar").inert`) {
		t.Error("the controls are live before the simulator is")
	}
	if eval[bool](tb, `document.body.dataset.ready === "true"`) {
		t.Error("the page says ready without the wasm")
	}
	tb.shot(".grid", "firstpaint")
	// typed while loading: Tab completes nothing (and throws nothing); the
	// line waits for the live session instead of being lost
	tb.do(`__t.q("textarea.cmd").value = "tic"; __t.q("textarea.cmd").dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true })); ""`)
	tb.do(`__t.type("tick 5")`)
	release()
	tb.waitJS(`document.body.dataset.ready === "true"`, "the live session")
	// The wasm is asked for only after the first frame with the drawing:
	// reading its body costs the main thread ~100 ms that would come first.
	if d := eval[float64](tb, `(() => { const w = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/klp.wasm")); return w ? w.startTime - __perf.fmp : -1e9; })()`); d < 0 {
		t.Errorf("klp.wasm was requested %.0f ms before the first paint (or not at all)", -d)
	}
	tb.waitNoText("", "The simulator is loading")
	if eval[bool](tb, `__t.q(".grid").inert || __t.q(".timebar").inert`) {
		t.Error("controls still inert after the wasm loaded")
	}
	tb.waitText("", "t = 0.020 s") // the line typed while loading ran
	tb.waitText(consoleQ, "tick 5")
	tb.click(timeQ, "Step")
	tb.waitText("", "t = 1.020 s")
}

// wasmGate serves the site through a proxy that holds klp.wasm until
// release is called (at the latest when the test ends), so a test sees
// the page as it is while the simulator loads.
func wasmGate(t *testing.T) (base string, release func()) {
	target, err := url.Parse(siteURL)
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/klp.wasm") {
			<-gate
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // runs first: Close waits for the held request
	return srv.URL, release
}

// TestRunItWhileLoading: a lesson's "Run it" pressed before the simulator
// is live runs the reference solution once it is (the click is not lost,
// and nothing fails meanwhile).
func TestRunItWhileLoading(t *testing.T) {
	base, release := wasmGate(t)
	tb := newTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(base+"/lessons/01-what-is-a-livepatch.html")); err != nil {
		t.Fatal(err)
	}
	w := `document.querySelector("klp-playground[data-step]")`
	tb.waitJS(w+` && `+w+`.shadowRoot && `+w+`.shadowRoot.querySelector("details.solution button")`, "the step's first paint with its solution")
	if eval[bool](tb, `document.body.dataset.ready === "true"`) {
		t.Fatal("the wasm was not held back")
	}
	tb.do(`(() => { const r = ` + w + `.shadowRoot; r.querySelector("details.solution").open = true;
		[...r.querySelectorAll("details.solution button")].find((b) => b.textContent === "Run it").click(); return ""; })()`)
	release()
	tb.waitJS(w+`.shadowRoot.querySelector(".panel.goals h2").innerText.includes("all met")`, "the goals met by the solution clicked while loading")
	if n := eval[int](tb, w+`.shadowRoot.querySelectorAll(".transcript .k-error").length`); n != 0 {
		t.Errorf("the early click left %d errors in the console", n)
	}
}

// TestFakeSignalTravels: a fake signal is drawn travelling from the
// transition's lane to its target's, and not under prefers-reduced-motion
// (where the signal's mark on the target's lane says it alone).
func TestFakeSignalTravels(t *testing.T) {
	for _, reduce := range []bool{false, true} {
		t.Run(fmt.Sprintf("reduce=%v", reduce), func(t *testing.T) {
			tb := newTab(t)
			if reduce {
				if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
				}); err != nil {
					t.Fatal(err)
				}
			}
			tb.open(siteURL + "/")
			tb.click(transQ, "until fake signal")
			tb.waitCount(lane("42")+` .mk-signal`, 1)
			travel := tlQ + ` circle.travel[data-pid="42"]`
			if reduce {
				if n := tb.count(travel); n != 0 {
					t.Errorf("%d travelling signals drawn under reduced motion", n)
				}
				return
			}
			tb.waitCount(travel, 1)
			anim := eval[string](tb, fmt.Sprintf(`getComputedStyle(__t.q(%s)).animationName`, jsString(travel)))
			if anim != "klp-travel" {
				t.Errorf("the travelling signal's animation is %q", anim)
			}
			dy := eval[string](tb, fmt.Sprintf(`__t.q(%s).style.getPropertyValue("--dy")`, jsString(travel)))
			if !strings.HasSuffix(dy, "px") || strings.HasPrefix(dy, "0") || strings.HasPrefix(dy, "-") {
				t.Errorf("the signal travels by %q, want down to task 42's lane", dy)
			}
			tb.shot(tlQ, "fake-signal-travels")
		})
	}
}

// TestTimelineReasonsApart: two switches close in time on one lane (a
// stack check for one patch, a kernel exit for the next a moment later)
// print one reason, not one word over the other; the other mark keeps its
// reason in its title.
func TestTimelineReasonsApart(t *testing.T) {
	tb := newTab(t)
	tb.open(siteURL + "/")
	src := `kernel 6.16
vmlinux cmdline_proc_show meminfo_proc_show do_sys_poll
livepatch p1
  object vmlinux
    func cmdline_proc_show -> lp1_cmdline/0x30
end
livepatch p2
  object vmlinux
    func meminfo_proc_show -> lp2_meminfo/0x30
end
task 100 cat state=S stack=do_sys_poll>meminfo_proc_show
insmod p1
settle
insmod p2
wake 100
ret 100
sysret 100
`
	tb.do(fmt.Sprintf(`(() => { __t.pg().load(%s); return ""; })()`, jsString(src)))
	tb.waitCount(lane("100")+` g.mark[data-kind="switch"][data-reason="kernel exit"]`, 1)
	tb.waitCount(lane("100")+` g.mark[data-kind="switch"][data-reason="stack check"]`, 1)
	got := eval[string](tb, `(() => {
		const out = [];
		for (const g of __t.q("`+tlQ+`").querySelectorAll("g.lane")) {
			const bs = [...g.querySelectorAll("text.reason")].map((t) => [t.textContent, t.getBBox()]);
			for (let i = 0; i < bs.length; i++)
				for (let j = i + 1; j < bs.length; j++) {
					const [a, p] = bs[i], [b, q] = bs[j];
					if (p.x < q.x + q.width && q.x < p.x + p.width) out.push(g.dataset.lane + ": " + a + " over " + b);
				}
		}
		return out.join("; ");
	})()`)
	if got != "" {
		t.Errorf("reasons drawn over each other: %s", got)
	}
	if n := eval[int](tb, `__t.q('`+lane("100")+`').querySelectorAll("text.reason").length`); n != 1 {
		t.Errorf("lane 100 prints %d reasons, want the one that fits", n)
	}
}
