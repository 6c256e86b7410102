//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The lesson pages (rendered by the lessons package, markup in
// lessons/README.md) and the embedding example, driven the way a reader
// uses them. One tab is reused for all the lessons: opening a tab per
// lesson costs more than the lessons themselves.

// lessonJS gives the tests short names for a lesson page's widgets; step k
// is the element with id step-k. DevTools evaluation is not subject to the
// page's CSP.
const lessonJS = `window.__l = {
  w: (k) => document.getElementById("step-" + k),
  root: (k) => __l.w(k) && __l.w(k).shadowRoot,
  // the widget has run its scenario and rendered its goals
  // (a frozen session is the first paint, drawn before the wasm is live)
  ready: (k) => { const w = __l.w(k); return !!(w && w.session && !w.session.frozen && __l.root(k).querySelector(".panel.goals h2")); },
  goals: (k) => {
    const p = __l.root(k).querySelector(".panel.goals");
    const items = [...p.querySelectorAll("li")];
    return { title: p.querySelector("h2").textContent, met: items.length > 0 && items.every((li) => li.classList.contains("ok")),
      items: items.map((li) => li.innerText.replace(/\s+/g, " ").trim()) };
  },
  // the solution as the widget shows it under "Reference solution"
  solution: (k) => { const pre = __l.root(k).querySelector("details.solution pre"); return pre ? pre.textContent.split("\n").filter((l) => l.trim()) : []; },
  // what the page ships as the solution (pre.klp-solution-text), as the
  // widget is meant to read it: trimmed, no blank lines or comments
  shipped: (k) => __l.w(k).querySelector("pre.klp-solution-text").textContent.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")),
  // types a line into the step's console and presses Enter; returns the
  // scenario errors the console printed for it
  // (async: the console queues the line and runs it a slice at a time)
  type: async (k, line) => {
    const r = __l.root(k);
    const ta = r.querySelector("textarea.cmd");
    if (!ta) return ["no console in step " + k];
    const before = r.querySelectorAll(".transcript .k-error").length;
    ta.focus();
    ta.value = line;
    ta.dispatchEvent(new Event("input", { bubbles: true }));
    ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    if (ta.value !== "") return ["the console kept the line in its input"];
    await __l.idle(k);
    return [...r.querySelectorAll(".transcript .k-error")].slice(before).map((e) => e.textContent);
  },
  // resolves when the step's widget has run everything it was given: the
  // console's queue is empty and no sliced run (a long Step, Settle, a
  // profile switch's replay) goes on. How many slices a run takes depends
  // on the machine's speed, so a test must wait for this, not assume one.
  idle: async (k) => {
    const w = __l.w(k);
    for (;;) {
      const q = w.console && w.console.queue;
      if (q) await q;
      if (w.session) await w.session.whenIdle();
      await new Promise((resolve) => setTimeout(resolve, 0));
      if ((!w.console || w.console.queue === q) && !(w.session && w.session.running)) return;
    }
  },
  progress: () => { try { return JSON.parse(localStorage.getItem("klp.progress.v1") || "{}"); } catch (e) { return { error: String(e) }; } },
};
true`

// lessonGoals is what a step's goals panel shows.
type lessonGoals struct {
	Title string
	Met   bool
	Items []string
}

func (g lessonGoals) String() string {
	return fmt.Sprintf("%q:\n\t%s", g.Title, strings.Join(g.Items, "\n\t"))
}

// lessonOpen navigates the tab, waits until the document has loaded and
// installs lessonJS.
func lessonOpen(tb *tab, url string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("navigate %s: %v", url, err)
	}
	lessonWait(tb, `document.readyState === "complete"`, 30*time.Second, func() string { return "the page " + url + " to load" })
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](lessonJS)); err != nil {
		tb.t.Fatalf("installing the lesson helpers: %v", err)
	}
}

// lessonWait polls a JavaScript condition every 20 ms until it holds;
// after limit it fails with what(), which can describe the page's state
// at that moment.
func lessonWait(tb *tab, cond string, limit time.Duration, what func() string) {
	tb.t.Helper()
	pollUntil(tb, cond, limit, func(err error) string {
		return fmt.Sprintf("%s (last error %v)", what(), err)
	})
}

type syllabusEntry struct {
	ID    string
	Href  string
	Steps int
}

// lessonSyllabus reads the lessons and their step counts from the index.
func lessonSyllabus(tb *tab) []syllabusEntry {
	tb.t.Helper()
	lessonOpen(tb, siteURL+"/lessons/index.html")
	ls := eval[[]syllabusEntry](tb, `[...document.querySelectorAll("li.klp-syllabus-item")].map((li) => ({
		ID: li.dataset.lesson, Href: li.querySelector("a").href, Steps: Number(li.dataset.steps) }))`)
	if len(ls) == 0 {
		tb.t.Fatal("the syllabus lists no lessons (lessons.BuildSite missing from the build?)")
	}
	return ls
}

// TestLessonSolutions follows every step of every lesson in its page: the
// goals panel shows open goals, the reference solution the widget offers
// is typed into that step's console line by line, and the panel then
// shows every goal met. Progress is remembered and shown on the syllabus.
func TestLessonSolutions(t *testing.T) {
	tb := newTab(t)
	ls := lessonSyllabus(tb)
	// Progress from earlier tests in this browser profile would hide a
	// step that no longer records it.
	eval[bool](tb, `(localStorage.removeItem("klp.progress.v1"), true)`)
	for _, l := range ls {
		name := strings.TrimSuffix(l.Href[strings.LastIndex(l.Href, "/")+1:], ".html")
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			lt := &tab{t: t, ctx: tb.ctx} // the same browser tab, failing this subtest
			lessonOpen(lt, l.Href)
			if n := eval[int](lt, `document.querySelectorAll("klp-playground[data-step]").length`); n != l.Steps || n == 0 {
				t.Fatalf("the page has %d steps, the syllabus says %d", n, l.Steps)
			}
			ready := make([]string, l.Steps)
			for k := range ready {
				ready[k] = fmt.Sprintf("__l.ready(%d)", k+1)
			}
			lessonWait(lt, strings.Join(ready, " && "), 30*time.Second, func() string {
				return "every step's widget to run its scenario; page shows:\n" + eval[string](lt, `document.body.innerText.slice(0, 2000)`)
			})
			for k := 1; k <= l.Steps; k++ {
				lessonStep(lt, l.ID, k)
			}
			// every step is remembered as done in this browser
			var p map[string]map[string]bool
			if err := json.Unmarshal([]byte(eval[string](lt, `JSON.stringify(__l.progress())`)), &p); err != nil {
				t.Fatal(err)
			}
			for k := 1; k <= l.Steps; k++ {
				if !p[l.ID][fmt.Sprint(k)] {
					t.Errorf("progress does not record lesson %s step %d as done: %v", l.ID, k, p)
				}
			}
			t.Logf("%d steps in %v", l.Steps, time.Since(start).Round(time.Millisecond))
		})
	}
	if t.Failed() {
		return
	}
	// The syllabus shows every lesson done.
	lessonOpen(tb, siteURL+"/lessons/index.html")
	lessonWait(tb, `[...document.querySelectorAll("li.klp-syllabus-item")].every((li) => li.classList.contains("klp-done"))`, 10*time.Second, func() string {
		return "every lesson marked done on the syllabus; it shows:\n" + eval[string](tb, `document.querySelector(".klp-syllabus").innerText`)
	})
	if n := eval[int](tb, `[...document.querySelectorAll("span.klp-progress")].filter((s) => s.textContent === "✓ done").length`); n != len(ls) {
		t.Errorf("%d of %d lessons say ✓ done", n, len(ls))
	}
}

// lessonStep plays step k of the open lesson.
func lessonStep(tb *tab, lesson string, k int) {
	tb.t.Helper()
	goals := func() lessonGoals { return eval[lessonGoals](tb, fmt.Sprintf("__l.goals(%d)", k)) }
	before := goals()
	if before.Met || strings.Contains(before.Title, "all met") {
		tb.t.Errorf("lesson %s step %d: every goal is met before the solution: %s", lesson, k, before)
	}
	lines := eval[[]string](tb, fmt.Sprintf("__l.solution(%d)", k))
	shipped := eval[[]string](tb, fmt.Sprintf("__l.shipped(%d)", k))
	if len(lines) == 0 {
		tb.t.Fatalf("lesson %s step %d: the widget offers no reference solution", lesson, k)
	}
	if strings.Join(lines, "\n") != strings.Join(shipped, "\n") {
		tb.t.Errorf("lesson %s step %d: the widget shows the solution as %q, the page ships %q", lesson, k, lines, shipped)
	}
	for _, line := range lines {
		if errs := evalAwait[[]string](tb, fmt.Sprintf("__l.type(%d, %s)", k, jsString(line))); len(errs) > 0 {
			tb.t.Fatalf("lesson %s step %d: %q: %s\ngoals: %s", lesson, k, line, strings.Join(errs, "; "), goals())
		}
	}
	lessonWait(tb, fmt.Sprintf("__l.goals(%d).met && __l.goals(%d).title.includes(\"all met\")", k, k), 5*time.Second, func() string {
		return fmt.Sprintf("lesson %s step %d: the goals to be met after typing the reference solution %q; the goals panel shows %s", lesson, k, lines, goals())
	})
}

// TestLessonProgress solves one step with the widget's "Run it" button
// (the other way a reader can follow a solution) and checks that the page
// says the step is done, still says so after a reload (localStorage), and
// that the syllabus counts it.
func TestLessonProgress(t *testing.T) {
	tb := newTab(t)
	ls := lessonSyllabus(tb)
	eval[bool](tb, `(localStorage.removeItem("klp.progress.v1"), true)`)
	l := ls[len(ls)/2]
	lessonOpen(tb, l.Href)
	lessonWait(tb, "__l.ready(1)", 30*time.Second, func() string { return "step 1 of " + l.Href })
	status := `((s) => s && !s.hidden ? s.textContent : "")(document.querySelector('p.klp-step-status[data-step="1"]'))`
	if s := eval[string](tb, status); s != "" {
		t.Errorf("a step not yet done says %q", s)
	}
	if msg := eval[string](tb, `(() => { const r = __l.root(1); r.querySelector("details.solution").open = true;
		const b = [...r.querySelectorAll("details.solution button")].find((b) => b.textContent === "Run it");
		if (!b) return "no Run it button"; b.click(); return ""; })()`); msg != "" {
		t.Fatal(msg)
	}
	lessonWait(tb, "__l.goals(1).met", 5*time.Second, func() string {
		return fmt.Sprintf("Run it to meet the goals: %s", eval[lessonGoals](tb, "__l.goals(1)"))
	})
	lessonWait(tb, status+`.startsWith("✓ Step 1 done")`, 5*time.Second, func() string { return "the step status, showing " + eval[string](tb, status) })
	// after a reload, before anything runs, the page still knows
	lessonOpen(tb, l.Href)
	if s := eval[string](tb, status); !strings.HasPrefix(s, "✓ Step 1 done") {
		t.Errorf("after a reload step 1 says %q", s)
	}
	if l.Steps > 1 {
		if s := eval[string](tb, strings.Replace(status, `"1"`, `"2"`, 1)); s != "" {
			t.Errorf("step 2, not done, says %q", s)
		}
	}
	lessonOpen(tb, siteURL+"/lessons/index.html")
	want := "✓ done"
	if l.Steps > 1 {
		want = fmt.Sprintf("1 of %d steps done", l.Steps)
	}
	got := eval[[]string](tb, `[...document.querySelectorAll("span.klp-progress")].map((s) => s.dataset.lesson + ":" + s.textContent)`)
	for _, g := range got {
		id, text, _ := strings.Cut(g, ":")
		if (id == l.ID) != (text != "") || (id == l.ID && text != want) {
			t.Errorf("syllabus progress %s = %q (lesson %s was the one played, want %q)", id, text, l.ID, want)
		}
	}
}

// TestLessonDeepLinks opens a lesson at a step (#step-K) and at a heading
// anchor: once the widgets above have replaced their short text fallback
// with the whole playground, the target is still at the top of the window.
func TestLessonDeepLinks(t *testing.T) {
	tb := newTab(t)
	ls := lessonSyllabus(tb)
	var multi []syllabusEntry
	for _, x := range ls {
		if x.Steps >= 2 {
			multi = append(multi, x)
		}
	}
	if len(multi) == 0 {
		t.Fatal("no lesson with two steps to link into")
	}
	for _, l := range multi {
		lessonDeepLinks(tb, l)
	}
}

// lessonDeepLinks follows a link to step 2 of lesson l, then one to the
// heading above that step.
func lessonDeepLinks(tb *tab, l syllabusEntry) {
	t := tb.t
	t.Helper()
	frag := "step-2"
	for i := 0; i < 2; i++ {
		// A link from elsewhere loads the page: from the same page,
		// the browser would only scroll, with the widgets already grown.
		if err := chromedp.Do(tb.ctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
		lessonOpen(tb, l.Href+"#"+frag)
		lessonWait(tb, "__l.ready(1) && __l.ready(2)", 30*time.Second, func() string { return "both widgets of " + l.Href })
		// || 0: Math.round gives -0 for a target just above the edge, which
		// DevTools returns as an unserializable value.
		top := fmt.Sprintf(`(Math.round(document.getElementById(%s).getBoundingClientRect().top) || 0)`, jsString(frag))
		lessonWait(tb, top+" === 0", 5*time.Second, func() string {
			return fmt.Sprintf("%s#%s at the top of the window (it is at %dpx; scrollY %d)", l.Href, frag, eval[int](tb, top), eval[int](tb, "Math.round(scrollY)"))
		})
		frag = eval[string](tb, `(() => { let e = __l.w(2); while ((e = e.previousElementSibling)) if (/^H[23]$/.test(e.tagName) && e.id && !/^hints/.test(e.id)) return e.id; return ""; })()`)
		if frag == "" {
			t.Fatalf("%s: no heading with an id before step 2", l.Href)
		}
	}
}

// lessonPages lists the lesson pages, the syllabus and the embedding
// example.
func lessonPages(tb *tab) []string {
	var pages []string
	for _, l := range lessonSyllabus(tb) {
		pages = append(pages, l.Href)
	}
	return append(pages, siteURL+"/lessons/index.html", siteURL+"/docs/embed-example.html")
}

// overflowJS names the elements that stick out of the window on the
// right, if the page scrolls sideways; those inside a box that scrolls by
// itself (a <pre>, a table's box) do not count.
const overflowJS = `(() => {
  const d = document.documentElement;
  if (d.scrollWidth <= d.clientWidth) return [];
  const up = (e) => e.parentElement || (e.parentNode && e.parentNode.host) || null;
  const clipped = (e) => { for (let a = up(e); a && a !== document.body; a = up(a)) if (getComputedStyle(a).overflowX !== "visible") return true; return false; };
  // every element, in the widgets' shadow roots too
  const all = [];
  const walk = (root) => { for (const e of root.querySelectorAll("*")) { all.push(e); if (e.shadowRoot) walk(e.shadowRoot); } };
  walk(document.body);
  const out = all.filter((e) => e.getBoundingClientRect().right > d.clientWidth + 1 && !clipped(e))
    .slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : "") + " " + JSON.stringify(e.textContent.slice(0, 40)));
  return out.length ? out : ["(the page is " + d.scrollWidth + " px wide)"];
})()`

// TestLessonPagesPhoneWidth loads every page at 390 px: nothing makes the
// page scroll sideways (wide tables and code scroll in their own boxes),
// and the widgets stack their panels.
func TestLessonPagesPhoneWidth(t *testing.T) {
	tb := newTab(t)
	pages := lessonPages(tb)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		lessonOpen(tb, p)
		n := eval[int](tb, `document.querySelectorAll("klp-playground").length`)
		lessonWait(tb, `[...document.querySelectorAll("klp-playground")].every((w) => w.session && w.shadowRoot.querySelector(".grid .panel"))`, 30*time.Second, func() string {
			return fmt.Sprintf("the %d widgets of %s", n, p)
		})
		if wide := eval[[]string](tb, overflowJS); len(wide) > 0 {
			t.Errorf("%s scrolls sideways at 390 px; too wide: %v", p, wide)
		}
		// one column of panels in every widget
		if bad := eval[[]string](tb, `[...document.querySelectorAll("klp-playground")].filter((w) => {
			const l = [...w.shadowRoot.querySelectorAll(".grid .panel:not([hidden])")].map((p) => Math.round(p.getBoundingClientRect().left));
			return l.some((x) => x !== l[0]); }).map((w) => w.id)`); len(bad) > 0 {
			t.Errorf("%s: widgets %v do not stack their panels at 390 px", p, bad)
		}
	}
}

// TestLessonPagesWithoutJavaScript loads every lesson with scripts off, at
// phone width: each step shows its scenario, goals and reference solution
// as labelled text, and still nothing scrolls the page sideways.
func TestLessonPagesWithoutJavaScript(t *testing.T) {
	tb := newTab(t)
	ls := lessonSyllabus(tb)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	scripts := func(on bool) {
		t.Helper()
		if _, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
			t.Fatal(err)
		}
	}
	defer scripts(true)
	type fallback struct {
		Defined               bool
		Steps                 int
		Scenarios, Goals      []int // per step: visible height, number of goals shown
		Solutions, Labels     []int // details present, visible labels
		ScenarioText, Display string
	}
	for _, l := range ls {
		scripts(false)
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(l.Href)); err != nil {
			t.Fatal(err)
		}
		// Look at the page with scripts on again: the page's own module
		// was skipped and does not run now.
		scripts(true)
		f := eval[fallback](tb, `(() => {
			const ws = [...document.querySelectorAll("klp-playground[data-step]")];
			const vis = (e) => !!e && e.getBoundingClientRect().height > 0 && getComputedStyle(e).visibility !== "hidden";
			return { Defined: !!customElements.get("klp-playground"), Steps: ws.length,
				Scenarios: ws.map((w) => vis(w.querySelector("pre.klp-fallback")) ? Math.round(w.querySelector("pre.klp-fallback").getBoundingClientRect().height) : 0),
				Goals: ws.map((w) => [...w.querySelectorAll("ol.klp-goals > li")].filter(vis).length),
				Solutions: ws.map((w) => vis(w.querySelector("details.klp-solution > summary")) ? 1 : 0),
				Labels: ws.map((w) => [...w.querySelectorAll(".klp-fallback-label")].filter(vis).length),
				ScenarioText: ws.length ? ws[0].querySelector("pre.klp-fallback").innerText : "",
				Display: ws.length ? getComputedStyle(ws[0]).display : "" };
		})()`)
		if f.Defined {
			t.Fatalf("%s: the widget script ran although scripts were off", l.Href)
		}
		if f.Steps != l.Steps || f.Display != "block" {
			t.Errorf("%s: %d fallbacks (want %d), display %q", l.Href, f.Steps, l.Steps, f.Display)
		}
		for k := 0; k < f.Steps; k++ {
			// a scenario is at least a few lines of 0.9em monospace
			if f.Scenarios[k] < 40 || f.Goals[k] == 0 || f.Solutions[k] != 1 || f.Labels[k] != 2 {
				t.Errorf("%s step %d without JavaScript: scenario %dpx high, %d goals, %d solutions, %d labels shown",
					l.Href, k+1, f.Scenarios[k], f.Goals[k], f.Solutions[k], f.Labels[k])
			}
		}
		if !strings.Contains(f.ScenarioText, "livepatch") {
			t.Errorf("%s: the first fallback does not read as a scenario: %q", l.Href, f.ScenarioText)
		}
		if wide := eval[[]string](tb, overflowJS); len(wide) > 0 {
			t.Errorf("%s without JavaScript scrolls sideways at 390 px; too wide: %v", l.Href, wide)
		}
	}
}

// embedWidget is what the example page's widgets are checked against.
type embedWidget struct {
	id      string
	panels  []string // the grid's panels, in order
	profile string   // the kernel profile selected
	panel   string   // a panel that shows the scenario's tasks…
	shows   []string // …and what it shows
}

var embedWidgets = []embedWidget{
	{"embed-inline", []string{"transition", "tasks", "console"}, "6.16", "tasks", []string{"42 cat", "43 less", "Blocked: is sleeping on function cmdline_proc_show"}},
	{"embed-file", []string{"transition", "tasks", "log"}, "4.16", "tasks", []string{"51 reader", "60 kworker/1:0"}},
	{"embed-goals", []string{"cpus", "alarms", "goals", "console"}, "rfc-sync-rcu", "cpus", []string{"runs dpdk-lcore (pid 70)", "nohz_full"}},
}

// embedCheck checks the three widgets of the example page open in tb,
// in the colour scheme ("dark" or "light") the page should be in.
func embedCheck(tb *tab, scheme string) {
	tb.t.Helper()
	lessonWait(tb, `document.querySelectorAll("klp-playground").length === 3 &&
		[...document.querySelectorAll("klp-playground")].every((w) => w.session && w.shadowRoot.querySelector(".grid .panel"))`, 30*time.Second, func() string {
		return "the three widgets of the example page; it shows:\n" + eval[string](tb, `document.body.innerText.slice(0, 3000)`)
	})
	for _, w := range embedWidgets {
		root := fmt.Sprintf(`document.getElementById(%s).shadowRoot`, jsString(w.id))
		panels := eval[[]string](tb, root+`.querySelector(".grid") && [...`+root+`.querySelectorAll(".grid .panel:not([hidden])")].map((p) => [...p.classList].find((c) => c !== "panel"))`)
		if strings.Join(panels, ",") != strings.Join(w.panels, ",") {
			tb.t.Errorf("%s shows panels %v, want %v", w.id, panels, w.panels)
		}
		if p := eval[string](tb, root+`.querySelector('select[aria-label="Kernel profile"]').value`); p != w.profile {
			tb.t.Errorf("%s runs kernel %q, want %q", w.id, p, w.profile)
		}
		text := eval[string](tb, root+`.querySelector(".panel.`+w.panel+`").innerText`)
		for _, s := range w.shows {
			if !strings.Contains(text, s) {
				tb.t.Errorf("%s: the %s panel lacks %q:\n%s", w.id, w.panel, s, text)
			}
		}
		// It is as tall as its content: the host wraps the frame, and
		// nothing inside is cut off.
		size := eval[[]float64](tb, fmt.Sprintf(`(() => { const w = document.getElementById(%s), f = w.shadowRoot.querySelector(".klp");
			return [w.getBoundingClientRect().height, f.getBoundingClientRect().height, f.scrollHeight - f.clientHeight, w.getBoundingClientRect().width, w.parentElement.clientWidth]; })()`, jsString(w.id)))
		if d := size[0] - size[1]; d < -1 || d > 1 || size[2] > 1 || size[1] < 100 {
			tb.t.Errorf("%s does not size to its content: host %.0fpx, frame %.0fpx, %.0fpx cut off", w.id, size[0], size[1], size[2])
		}
		if stray := eval[[]string](tb, root+`.querySelector(".klp").childNodes.length && [...`+root+`.querySelector(".klp").childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent)`); len(stray) > 0 {
			tb.t.Errorf("%s shows stray text %q", w.id, stray)
		}
		if size[3] > size[4]+1 {
			tb.t.Errorf("%s is %.0fpx wide in a %.0fpx column", w.id, size[3], size[4])
		}
		// the page's scheme, in the class and in the colours
		theme := eval[[]string](tb, root+`.querySelector(".klp").className.split(" ").concat([getComputedStyle(`+root+`.querySelector(".klp")).backgroundColor])`)
		if !strings.Contains(strings.Join(theme, " "), "theme-"+scheme) || embedScheme(theme[len(theme)-1]) != scheme {
			tb.t.Errorf("%s: classes and background %v, want theme-%s and a %s background", w.id, theme, scheme, scheme)
		}
	}
	if bg := eval[string](tb, `getComputedStyle(document.body).backgroundColor`); embedScheme(bg) != scheme {
		tb.t.Errorf("the page's background is %s, want %s", bg, scheme)
	}
	// one download and one Go runtime for the three
	if n := eval[int](tb, `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/klp.wasm")).length`); n != 1 {
		tb.t.Errorf("klp.wasm fetched %d times", n)
	}
	if ids := eval[[]float64](tb, `[...document.querySelectorAll("klp-playground")].map((w) => w.session.id)`); len(ids) != 3 || ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
		tb.t.Errorf("the widgets' sessions are %v, want three different ones", ids)
	}
}

// embedScheme says whether a background colour ("rgb(r, g, b)") is dark
// or light; "none" for a transparent one (no stylesheet applied).
func embedScheme(rgb string) string {
	var r, g, b float64
	a := 1.0
	n, _ := fmt.Sscanf(strings.NewReplacer("rgba(", "", "rgb(", "", ",", " ", ")", "").Replace(rgb), "%g %g %g %g", &r, &g, &b, &a)
	switch {
	case n < 3 || a == 0:
		return "none"
	case 0.2126*r+0.7152*g+0.0722*b < 128:
		return "dark"
	}
	return "light"
}

func emulateScheme(tb *tab, scheme string) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		tb.t.Fatal(err)
	}
}

// TestEmbedExample loads the shipped example of embedding the widget
// (web/docs/embed-example.html): three widgets with their scenarios'
// tasks, panels and profiles, one wasm download, the reader's dark scheme
// honoured (and a switch to light followed), no console errors (newTab
// fails the test on any). The example's third widget then meets its
// goals from its console.
func TestEmbedExample(t *testing.T) {
	tb := newTab(t)
	emulateScheme(tb, "dark")
	lessonOpen(tb, siteURL+"/docs/embed-example.html")
	embedCheck(tb, "dark")
	if s := eval[string](tb, `document.getElementById("embed-goals").shadowRoot.querySelector(".panel.goals h2").textContent`); s != "Goals: 0 of 2 met" {
		t.Errorf("the goals widget's panel says %q", s)
	}
	for _, line := range []string{"wake 42", "ret 42 2", "syscall 70", "sysret 70", "sleep 1"} {
		eval[bool](tb, fmt.Sprintf(`(() => { const ta = document.getElementById("embed-goals").shadowRoot.querySelector("textarea.cmd");
			ta.value = %s; ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true })); return true; })()`, jsString(line)))
	}
	lessonWait(tb, `document.getElementById("embed-goals").shadowRoot.querySelector(".panel.goals h2").textContent === "Goals: all met ✓"`, 5*time.Second, func() string {
		return "the example's goals; the panel shows " + eval[string](tb, `document.getElementById("embed-goals").shadowRoot.querySelector(".panel.goals").innerText`)
	})
	// The reader switches to a light scheme: page and widgets follow.
	emulateScheme(tb, "light")
	lessonWait(tb, `[...document.querySelectorAll("klp-playground")].every((w) => w.shadowRoot.querySelector(".klp").classList.contains("theme-light"))`, 5*time.Second, func() string {
		return "the widgets to turn light"
	})
	embedCheck(tb, "light")
	// The page links to itself from the lessons' syllabus.
	lessonOpen(tb, siteURL+"/lessons/index.html")
	if href := eval[string](tb, `(document.querySelector('a[href="../docs/embed-example.html"]') || {}).href || ""`); href != siteURL+"/docs/embed-example.html" {
		t.Errorf("the syllabus links to the embedding example as %q", href)
	}
}

// TestEmbedExampleCrossOrigin serves the shipped example page from another
// origin, with widget.js, its stylesheet and the scenario file left on the
// playground's server, under a CSP that allows just that origin: the
// page works as it does at home.
func TestEmbedExampleCrossOrigin(t *testing.T) {
	// the page as shipped (minified by cmd/build)
	resp, err := http.Get(siteURL + "/docs/embed-example.html")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the example page: HTTP %d, %v", resp.StatusCode, err)
	}
	src := string(b)
	page := strings.NewReplacer(
		`src="../widget.js"`, `src="`+siteURL+`/widget.js"`,
		`href="embed-example.css"`, `href="`+siteURL+`/docs/embed-example.css"`,
		`scenario-src="embed-example.klp"`, `scenario-src="`+siteURL+`/docs/embed-example.klp"`,
		`href="../favicon.svg"`, `href="data:,"`,
	).Replace(src)
	if !strings.Contains(page, `src="`+siteURL+`/widget.js"`) || !strings.Contains(page, `scenario-src="`+siteURL) {
		t.Fatalf("the example page no longer loads ../widget.js and embed-example.klp as this test expects:\n%s", src)
	}
	otherURL := crossOriginPage(t, page)
	tb := newTab(t)
	emulateScheme(tb, "dark")
	// 127.0.0.1 and localhost are different origins
	lessonOpen(tb, otherURL)
	embedCheck(tb, "dark")
}
