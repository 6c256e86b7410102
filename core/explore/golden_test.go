package explore

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out")

// summary is what a search found, in a form that must not differ between
// a native and a WebAssembly build (the search is deterministic).
func summary(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "states %d\ntransitions %d\ncompleted %d\ndepth %d\nbound %q\n", r.States, r.Transitions, r.Completed, r.Depth, r.Bound)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\nviolated %s: %s\n%s", v.Property, v.Detail, v.Scenario)
	}
	return b.String()
}

// TestGolden explores every testdata scenario (the benchmark with a
// smaller step bound) and compares with its .out file; `go test
// ./core/explore -update` rewrites them. The Makefile's test-wasm runs
// this under WebAssembly too, against the same files.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.klp")
	if len(files) < 4 {
		t.Fatalf("testdata has %d scenarios", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			o := Options{}
			if strings.HasSuffix(f, "bench.klp") {
				o.Steps = 7
			}
			r, err := Explore(filepath.Base(f), load(t, filepath.Base(f)), o)
			if err != nil {
				t.Fatal(err)
			}
			got := summary(r)
			out := strings.TrimSuffix(f, ".klp") + ".out"
			if *update {
				if err := os.WriteFile(out, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("differs from %s (run with -update and review):\n%s", out, got)
			}
		})
	}
}
