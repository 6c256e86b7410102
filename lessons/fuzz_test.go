package lessons

import (
	"regexp"
	"strings"
	"testing"
)

// Commands that make the simulator run for a long time are not what this
// fuzzes; inputs with them are skipped, as are very large inputs.
var slowRE = regexp.MustCompile(`(?m)^\s*(spawn-random|settle|sleep|tick)\b`)

// FuzzRender renders arbitrary Markdown as a lesson. The seed corpus is
// in testdata/fuzz/FuzzRender. Properties: no panic; every error names the
// file; a rendered lesson has one well-formed widget per scenario block,
// with its text escaped, and no raw HTML gets through.
func FuzzRender(f *testing.F) {
	f.Add("# Title\n\nText.\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 8<<10 || slowRE.MatchString(src) {
			t.Skip()
		}
		const file = "lessons/77-fuzz.md"
		l, err := Render(file, []byte(src))
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, file) {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			return
		}
		h := string(l.HTML)
		low := strings.ToLower(h)
		for _, bad := range []string{"<script", "<style", "href=\"javascript:", "<iframe"} {
			if strings.Contains(low, bad) {
				t.Fatalf("raw HTML got through (%s):\n%s", bad, h)
			}
		}
		if n := strings.Count(h, "<klp-playground "); n != len(l.Steps) || strings.Count(h, "</klp-playground>") != n {
			t.Fatalf("%d widgets for %d scenario blocks:\n%s", n, len(l.Steps), h)
		}
		for _, w := range l.Steps {
			if !strings.Contains(h, `<code class="language-scenario">`+esc(w.Scenario)+`</code>`) {
				t.Fatalf("step %d's scenario is not in the page, escaped:\n%s", w.Step, h)
			}
			if w.HasSolution && !strings.Contains(h, esc(w.Solution)) {
				t.Fatalf("step %d's solution is not in the page", w.Step)
			}
		}
		if _, err := Page(l, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
}
