package lessons

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// syllabus is the course in order: the id and a word that must appear in
// the title, so that a renamed or reordered lesson is noticed.
var syllabus = []struct{ id, word string }{
	{"01", "live patch"},
	{"02", "consistency"},
	{"03", "patch_state"},
	{"04", "Stack"},
	{"05", "exit"},
	{"06", "idle"},
	{"07", "reliable"},
	{"08", "signals"},
	{"09", "Fork"},
	{"10", "Revers"},
	{"11", "Force"},
	{"12", "stacks"},
	{"13", "replace"},
	{"14", "Callbacks"},
	{"15", "states"},
	{"16", "kthreads"},
	{"17", "synchronize"},
	{"18", "Sandbox"},
}

func loadAll(t *testing.T) []*Lesson {
	t.Helper()
	ls, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return ls
}

func TestSyllabus(t *testing.T) {
	ls := loadAll(t)
	if len(ls) != len(syllabus) {
		t.Fatalf("%d lessons, want %d", len(ls), len(syllabus))
	}
	for i, l := range ls {
		want := syllabus[i]
		if l.ID != want.id || !strings.Contains(l.Title, want.word) {
			t.Errorf("lesson %d is %s %q, want %s with %q in the title", i+1, l.ID, l.Title, want.id, want.word)
		}
		if l.Summary == "" {
			t.Errorf("%s: no summary for the syllabus", l.File)
		}
		if len(l.Steps) == 0 {
			t.Errorf("%s: no live scenario", l.File)
		}
		for _, w := range l.Steps {
			if len(w.Goals) == 0 || !w.HasSolution {
				t.Errorf("%s:%d: step %d needs goal lines and a solution block", l.File, w.Line, w.Step)
			}
		}
		if !bytes.Contains(l.HTML, []byte(`class="klp-hints"`)) {
			t.Errorf("%s: no Hints list", l.File)
		}
	}
}

// TestSolutions replays every step: the goals must not all hold at the
// start (else the step teaches nothing), and must all hold after the
// reference solution, typed line by line as in the console.
func TestSolutions(t *testing.T) {
	for _, l := range loadAll(t) {
		for _, w := range l.Steps {
			t.Run(fmt.Sprintf("%s/step%d", l.Slug, w.Step), func(t *testing.T) {
				s, _, err := scenario.NewSession(l.File, pad(w.Scenario, w.Line))
				if err != nil {
					t.Fatal(err)
				}
				before := s.Goals()
				open := 0
				for _, g := range before {
					if !g.OK {
						open++
					}
				}
				if open == 0 {
					t.Errorf("every goal already holds before the solution: %+v", before)
				}
				for i, line := range strings.Split(w.Solution, "\n") {
					out, err := s.Exec(line)
					if err != nil {
						t.Fatalf("%s:%d: %q: %v", l.File, w.SolutionLine+i, line, err)
					}
					for _, o := range out {
						if o.Kind == "fail" {
							t.Errorf("%s:%d: %s", l.File, w.SolutionLine+i, o.Text)
						}
					}
				}
				for _, g := range s.Goals() {
					if !g.OK {
						t.Errorf("goal %q not met after the solution: %s", g.Goal, g.Reason)
					}
				}
			})
		}
	}
}

func goldenCheck(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lessons -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./lessons -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestGolden renders every page and compares it with testdata/golden.
func TestGolden(t *testing.T) {
	ls := loadAll(t)
	for i, l := range ls {
		var prev, next *Lesson
		if i > 0 {
			prev = ls[i-1]
		}
		if i+1 < len(ls) {
			next = ls[i+1]
		}
		page, err := Page(l, prev, next)
		if err != nil {
			t.Fatal(err)
		}
		goldenCheck(t, l.Slug+".html", page)
	}
	idx, err := Index(ls)
	if err != nil {
		t.Fatal(err)
	}
	goldenCheck(t, "index.html", idx)
	if *update {
		return
	}
	// Nothing stale: every golden file belongs to a page.
	ents, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"index.html": true}
	for _, l := range ls {
		names[l.Slug+".html"] = true
	}
	for _, e := range ents {
		if !names[e.Name()] {
			t.Errorf("stale golden file testdata/golden/%s", e.Name())
		}
	}
}

var inlineRE = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=`)

func TestBuildSite(t *testing.T) {
	dir := t.TempDir()
	if err := BuildSite(dir); err != nil {
		t.Fatal(err)
	}
	ls := loadAll(t)
	files := []string{"index.html"}
	for _, l := range ls {
		files = append(files, l.Slug+".html")
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, "lessons", f))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, want := range []string{`<script type="module" src="../widget.js"></script>`, `<link rel="stylesheet" href="../style.css">`, `<link rel="stylesheet" href="lessons.css">`} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %s", f, want)
			}
		}
		if m := inlineRE.FindString(s); m != "" {
			t.Errorf("%s has an inline script, style or handler: %q", f, m)
		}
		if f != "index.html" && !strings.Contains(s, `href="index.html"`) {
			t.Errorf("%s has no link to the index", f)
		}
	}
	if css, err := os.ReadFile(filepath.Join(dir, "lessons", "lessons.css")); err != nil || !bytes.Contains(css, []byte(".klp-scroll")) {
		t.Errorf("lessons.css not written (%v)", err)
	}
	idx, _ := os.ReadFile(filepath.Join(dir, "lessons", "index.html"))
	for _, l := range ls {
		if !bytes.Contains(idx, []byte(fmt.Sprintf(`data-lesson="%s"`, l.ID))) || !bytes.Contains(idx, []byte(`href="`+l.Slug+`.html"`)) {
			t.Errorf("index lacks lesson %s", l.Slug)
		}
	}
	first, _ := os.ReadFile(filepath.Join(dir, "lessons", ls[0].Slug+".html"))
	if bytes.Contains(first, []byte(`rel="prev"`)) || !bytes.Contains(first, []byte(`rel="next" href="`+ls[1].Slug+`.html"`)) {
		t.Errorf("first lesson's prev/next links are wrong")
	}
}

const brokenLesson = `---
title: Broken
---

Some text.

` + "```scenario" + `
kernel 6.16
vmlinux f g
task 1 init user
frobnicate 1
goal transition none
` + "```" + `
`

func TestBrokenScenarioFails(t *testing.T) {
	_, err := Render("lessons/99-broken.md", []byte(brokenLesson))
	if err == nil {
		t.Fatal("a broken scenario rendered")
	}
	// front matter (3 lines), blank, text, blank, fence on 7: the bad
	// command is on line 11.
	if !strings.Contains(err.Error(), "lessons/99-broken.md:11:1: unknown command \"frobnicate\"") {
		t.Errorf("error does not name file:line of the bad line: %v", err)
	}
}

func TestScenarioErrorsAtRuntime(t *testing.T) {
	// Parses, but fails when run: the task's stack names a function the
	// kernel does not have.
	src := "# Runtime\n\n```scenario\nvmlinux f\ntask 5 x state=S stack=f>nothere\ngoal transition none\n```\n"
	_, err := Render("lessons/98-runtime.md", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "lessons/98-runtime.md:5:") {
		t.Errorf("want an error at lessons/98-runtime.md:5, got %v", err)
	}
	// An expect that does not hold in the start state is a broken lesson.
	src = "# Expect\n\n```scenario\nvmlinux f\nexpect transition livepatch_sample\n```\n"
	_, err = Render("lessons/97-expect.md", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "lessons/97-expect.md:5:") {
		t.Errorf("want an expect failure at lessons/97-expect.md:5, got %v", err)
	}
}

func TestSolutionErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"stray", "# T\n\n```solution\nsleep 1\n```\n", "lessons/90-t.md:3: a solution block needs a scenario block before it"},
		{"syntax", "# T\n\n```scenario\nvmlinux f\ngoal transition none\n```\n\n```solution\nsleep 1\necho \"open\n```\n", "lessons/90-t.md:10:"},
		{"twice", "# T\n\n```scenario\nvmlinux f\ngoal transition none\n```\n```solution\nsleep 1\n```\n```solution\nsleep 2\n```\n", "lessons/90-t.md:10: scenario step 1 already has a solution"},
		{"nogoal", "# T\n\n```scenario\nvmlinux f\n```\n```solution\nsleep 1\n```\n", "has no goal line"},
		{"block", "# T\n\n```scenario\nvmlinux f\ngoal transition none\n```\n```solution\nsleep 1\nlivepatch p\n  object vmlinux\nend\n```\n", "lessons/90-t.md:9:1: a solution runs one console line at a time; livepatch … end is a block"},
		{"panels", "# T\n\n```scenario panels=console,bogus\nvmlinux f\n```\n", "lessons/90-t.md:3: unknown panel \"bogus\""},
		{"option", "# T\n\n```scenario height=3\nvmlinux f\n```\n", "unknown scenario option"},
		{"frontmatter", "---\ntitle: x\ncolour: red\n---\n", "lessons/90-t.md:3: unknown front matter key"},
		{"notitle", "Just text.\n", "has no title"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Render("lessons/90-t.md", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestWidgetMarkup(t *testing.T) {
	src := "---\ntitle: Markup\nsummary: s\n---\n\n## Step\n\n```scenario panels=console,log\n" +
		"# <script>alert(1)</script> & \"quotes\"\nvmlinux f\ngoal log \"<b>\"\n```\n\n### Hints\n\n- one\n- two\n\n" +
		"```solution\necho \"<i>\" > /dev/null\n```\n\n```go\nfmt.Println(\"plain code stays\")\n```\n"
	l, err := Render("lessons/42-markup.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := string(l.HTML)
	for _, want := range []string{
		`<klp-playground panels="console,log" class="klp-widget" data-lesson="42" data-step="1" id="step-1">`,
		`<pre class="klp-fallback"><code class="language-scenario"># &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;`,
		`<li class="klp-goal" data-goal="1"><code>log &#34;&lt;b&gt;&#34;</code></li>`,
		`<details class="klp-solution">`,
		`echo &#34;&lt;i&gt;&#34; &gt; /dev/null`,
		`<ul class="klp-hints" data-lesson="42" data-step="1">`,
		`<h2 id="step">Step</h2>`,
		`<code class="language-go">`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("rendered HTML lacks %s\n%s", want, h)
		}
	}
	if strings.Contains(h, "<script>") || strings.Contains(h, "```solution") {
		t.Errorf("unescaped or leftover content:\n%s", h)
	}
	if l.ID != "42" || l.Slug != "42-markup" || l.Title != "Markup" || len(l.Steps) != 1 || l.Steps[0].Line != 9 || l.Steps[0].SolutionLine != 20 {
		t.Errorf("lesson = %+v, step = %+v", l, l.Steps[0])
	}
}

// A step is linked as #step-N; a heading that would get the same id
// must not take the link away from the widget.
func TestStepAnchors(t *testing.T) {
	src := "# Anchors\n\n## Step 1\n\n```scenario\nvmlinux f\ngoal transition none\n```\n\n## Step 2: more\n\n```scenario\nvmlinux f\ngoal transition none\n```\n"
	l, err := Render("lessons/41-anchors.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := string(l.HTML)
	for _, want := range []string{`<h2 id="step-1-heading">Step 1</h2>`, `id="step-1">`, `<h2 id="step-2-more">Step 2: more</h2>`, `id="step-2">`} {
		if !strings.Contains(h, want) {
			t.Errorf("rendered HTML lacks %s\n%s", want, h)
		}
	}
	if n := strings.Count(h, `id="step-1"`); n != 1 {
		t.Errorf("id step-1 appears %d times", n)
	}
}

// A table sits in a box that scrolls sideways (lessons.css), so that a
// wide one does not widen the page on a phone.
func TestTableScrollBox(t *testing.T) {
	l, err := Render("lessons/40-table.md", []byte("# Table\n\nText.\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\nMore.\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := string(l.HTML)
	want := `<div class="klp-scroll" role="region" aria-label="Table" tabindex="0">` + "\n<table>"
	if !strings.Contains(h, want) || !strings.Contains(h, "</table>\n</div>\n<p>More.</p>") {
		t.Errorf("the table is not wrapped in its scroll box:\n%s", h)
	}
}
