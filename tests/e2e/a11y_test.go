//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (tests/a11y, installed by scripts/deps.sh).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "a11y", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("KLP_REQUIRE_BROWSER") != "" {
			t.Fatalf("axe-core is missing (make deps installs it): %v", err)
		}
		t.Skipf("axe-core is not installed (make deps): %v", err)
	}
	return string(b)
}

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// axeRun runs axe-core's WCAG 2.1 A/AA and best-practice rules on the page
// as it is now, shadow roots included, and returns what it finds.
func axeRun(tb *tab, src string) []axeViolation {
	tb.t.Helper()
	if !eval[bool](tb, `typeof axe !== "undefined"`) {
		eval[bool](tb, src+";true")
	}
	js := `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]})
  .then((r) => JSON.stringify(r.violations.map((v) => ({ID: v.id, Impact: v.impact, Help: v.help,
    Nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" » ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 200))}))))`
	var vs []axeViolation
	if err := json.Unmarshal([]byte(evalAwait[string](tb, js)), &vs); err != nil {
		tb.t.Fatal(err)
	}
	return vs
}

// TestAccessibility runs axe-core on the pages and on the states a person
// opens (the Explore dialog, the new-livepatch form, the keys help, a
// lesson with several widgets, the embedding example): no WCAG 2.1 A/AA or
// best-practice rule may fail. The tab bypasses the site's CSP, which
// would refuse the inline styles axe's own checks write.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	pages := []struct {
		name, url string
		dark      bool                        // in the dark scheme
		lesson    bool                        // wait for every widget of the page
		then      func(t *testing.T, tb *tab) // a state to check as well
	}{
		{name: "playground", url: "/", then: func(t *testing.T, tb *tab) {
			tb.click(patchesQ, "New livepatch…")
			tb.clickID("help-open")
			tb.waitJS(`document.querySelector("dialog[open]") !== null`, "the keys help to open")
		}},
		{name: "explore dialog", url: "/", then: func(t *testing.T, tb *tab) {
			loadForce(t, tb)
			tb.clickID("explore")
			tb.waitJS(`document.querySelector("#explore-dialog").open && document.querySelector("#explore-dialog .explore-violation a") !== null`, "a counterexample listed")
		}},
		{name: "playground, dark", url: "/", dark: true, then: func(t *testing.T, tb *tab) {
			tb.click(patchesQ, "New livepatch…")
		}},
		{name: "every example", url: "/", then: func(t *testing.T, tb *tab) {
			// each example the menu offers (alarms, stacks, the patch
			// stack, 200 tasks drawn), checked one after the other
			var files []string
			if err := json.Unmarshal([]byte(eval[string](tb, `JSON.stringify([...document.getElementById("examples").options].map((o) => o.value).filter(Boolean))`)), &files); err != nil || len(files) < 5 {
				t.Fatalf("the example menu lists %v (%v)", files, err)
			}
			for _, f := range files[1:] {
				tb.do(fmt.Sprintf(`(() => { const s = document.getElementById("examples"); s.value = %s; s.dispatchEvent(new Event("change")); return ""; })()`, jsString(f)))
				tb.waitJS(fmt.Sprintf(`(() => { const s = document.getElementById("examples"); return document.getElementById("page-status").innerText.includes("Loaded example: " + s.options[s.selectedIndex].text) && s.value === %s; })()`, jsString(f)), "the example "+f+" to load")
				for _, v := range axeRun(tb, src) {
					t.Errorf("example %s: %s (%s, %s):\n  %s", f, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
				}
			}
		}},
		{name: "lessons index", url: "/lessons/index.html", lesson: true},
		{name: "lesson 11, dark", url: "/lessons/11-force.html", lesson: true, dark: true},
		{name: "lesson 11 (three widgets)", url: "/lessons/11-force.html", lesson: true},
		{name: "lesson 19", url: "/lessons/19-explore.html", lesson: true},
		{name: "scenario language", url: "/scenario.html", lesson: true},
		{name: "embedding example", url: "/docs/embed-example.html", lesson: true},
	}
	// every lesson: their tables, code and widgets differ
	lessons, _ := filepath.Glob("../../lessons/[0-9]*.md")
	for _, f := range lessons {
		slug := strings.TrimSuffix(filepath.Base(f), ".md")
		if slug == "11-force" || slug == "19-explore" {
			continue // above
		}
		pages = append(pages, struct {
			name, url    string
			dark, lesson bool
			then         func(t *testing.T, tb *tab)
		}{name: "lesson " + slug, url: "/lessons/" + slug + ".html", lesson: true})
	}
	if len(lessons) < 19 {
		t.Fatalf("found %d lessons", len(lessons))
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			tb := newTab(t)
			if _, err := chromedp.Call(tb.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				t.Fatal(err)
			}
			// no animation mid-way when axe measures contrast (the
			// timeline's marks pop in from 30 % opacity)
			scheme := "light"
			if p.dark {
				scheme = "dark"
			}
			if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}, {Name: "prefers-reduced-motion", Value: "reduce"}},
			}); err != nil {
				t.Fatal(err)
			}
			if p.lesson {
				lessonOpen(tb, siteURL+p.url)
				lessonWait(tb, `[...document.querySelectorAll("klp-playground")].every((w) => w.session && w.shadowRoot.querySelector(".grid .panel"))`, 30*time.Second, func() string { return "the widgets of " + p.url })
			} else {
				tb.open(siteURL + p.url)
			}
			check := func(state string) {
				vs := axeRun(tb, src)
				for _, v := range vs {
					t.Errorf("%s: %s (%s, %s):\n  %s", state, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
				}
			}
			check(p.url)
			if p.then != nil {
				p.then(t, tb)
				check(fmt.Sprintf("%s, then opened", p.url))
			}
		})
	}
}

// TestAccessibilityCatches: the test above can fail — a control with no
// name, added to the page, is reported.
func TestAccessibilityCatches(t *testing.T) {
	src := axeSource(t)
	tb := newTab(t)
	if _, err := chromedp.Call(tb.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	tb.open(siteURL + "/")
	eval[bool](tb, `(document.querySelector("main, body").append(Object.assign(document.createElement("button"), {id: "nameless"})), true)`)
	found := false
	for _, v := range axeRun(tb, src) {
		found = found || v.ID == "button-name"
	}
	if !found {
		t.Error("a button without a name was not reported")
	}
}
