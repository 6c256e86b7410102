package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

var firstBlock = regexp.MustCompile(`<script type="application/json" class="klp-first">(.*?)</script>`)

// TestPrerender: a widget gets the first view of its own scenario (with
// its profile), one that fetches its scenario is left alone, "<" cannot
// close the data block, and a broken scenario fails the build.
func TestPrerender(t *testing.T) {
	const scen = "cpus 1\nvmlinux a b/0x30 schedule\ntask 42 cat&lt;x state=S stack=a&gt;b&gt;schedule\n"
	for _, c := range []struct {
		name, page  string
		n           int
		profile     string
		wantErr     bool
		wantComm    string
		wantInTasks int
	}{
		{name: "template", page: `<p>x</p><klp-playground panels="tasks"><template>` + scen + `</template></klp-playground>`, n: 1, profile: "6.16", wantComm: "cat<x"},
		{name: "lesson pre with profile", page: `<klp-playground profile="5.1"><pre class="klp-fallback"><code>` + scen + `</code></pre></klp-playground>`, n: 1, profile: "5.1", wantComm: "cat<x"},
		{name: "scenario-src", page: `<klp-playground scenario-src="x.klp"></klp-playground>`, n: 0},
		{name: "already done", page: `<klp-playground><script type="application/json" class="klp-first">{}</script><template>` + scen + `</template></klp-playground>`, n: 0},
		// a minified <meta content> may hold the element's name as text;
		// so may a comment or a script: none of them is a widget
		{name: "in an attribute", page: `<meta name="description" content="embed <klp-playground> anywhere"><p>x</p>`, n: 0},
		{name: "in a comment and a script", page: `<!-- <klp-playground><template>` + scen + `</template></klp-playground> --><script>let s = "<klp-playground>";</script>`, n: 0},
		{name: "after an attribute holding one", page: `<meta content="<klp-playground>"><klp-playground panels="tasks"><template>` + scen + `</template></klp-playground>`, n: 1, profile: "6.16", wantComm: "cat<x"},
		{name: "broken", page: `<klp-playground><template>frobnicate</template></klp-playground>`, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, n, err := prerender(c.page, t.TempDir())
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), "frobnicate") {
					t.Fatalf("err = %v, want one naming the bad command", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != c.n {
				t.Fatalf("prerendered %d widgets, want %d", n, c.n)
			}
			if n == 0 {
				if out != c.page {
					t.Errorf("page changed:\n%s", out)
				}
				return
			}
			m := firstBlock.FindStringSubmatch(out)
			if m == nil || strings.Contains(m[1], "<") {
				t.Fatalf("no data block, or a raw '<' in it: %s", out)
			}
			var d struct {
				View struct {
					Profile string
					Tasks   []struct {
						PID  int
						Comm string
					}
				}
				Log    []any
				Events []any
				Ls     map[string]any
			}
			if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
				t.Fatal(err)
			}
			if d.View.Profile != c.profile {
				t.Errorf("profile %q, want %q", d.View.Profile, c.profile)
			}
			if len(d.View.Tasks) == 0 || d.View.Tasks[0].PID != 42 || d.View.Tasks[0].Comm != c.wantComm {
				t.Errorf("tasks %+v", d.View.Tasks)
			}
		})
	}
}
