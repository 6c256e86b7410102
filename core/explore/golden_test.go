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
// smaller step bound), with and without the partial-order reduction, and
// compares with its .out file; `go test ./core/explore -update` rewrites
// them. The counts pin the search: a faster search that explores fewer
// states by mistake, or misses a counterexample, fails here. The
// Makefile's test-wasm runs this under WebAssembly too, against the same
// files.
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
			o.NoReduce = true
			rn, err := Explore(filepath.Base(f), load(t, filepath.Base(f)), o)
			if err != nil {
				t.Fatal(err)
			}
			// the memory bound, small searches included (the
			// set starts at 16 slots)
			if per := float64(r.SetBytes) / float64(r.States); r.States >= 32 && per > 16 {
				t.Errorf("visited set: %.1f bytes a state at %d states, want at most 16", per, r.States)
			}
			got := summary(r) + "\n# without the reduction\n" + summary(rn)
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

// TestBenchCounts pins the benchmark's own search (the README's figures,
// all 12 steps), with and without the reduction, in testdata/bench.counts.
func TestBenchCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole benchmark search")
	}
	p, err := Prepare("bench.klp", load(t, "bench.klp"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range []struct {
		name string
		o    Options
	}{{"reduce", Options{}}, {"no-reduce", Options{NoReduce: true}}} {
		r := p.Run(c.o)
		fmt.Fprintf(&b, "%s: states %d transitions %d completed %d depth %d bound %q violations %d\n", c.name, r.States, r.Transitions, r.Completed, r.Depth, r.Bound, len(r.Violations))
	}
	got, out := b.String(), "testdata/bench.counts"
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
}
