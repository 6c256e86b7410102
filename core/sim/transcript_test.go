// The golden transcripts live in testdata/transcripts as pairs: NAME.klp, a
// scenario in the one scenario language, and NAME.txt, what the machine did
// at each statement (kernel log at every level, then the events). Adding a
// behaviour test is adding those two files; `go test ./core/sim -run
// TestTranscripts -update` writes the .txt from the .klp for review.
//
// The runner is in the external test package sim_test because it drives the
// Sim through core/scenario, which imports core/sim: package sim's own tests
// cannot import it without a cycle.
package sim_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

var updateTranscripts = flag.Bool("update", false, "rewrite testdata/transcripts/*.txt from the .klp files")

// quietVerbs declare the machine; the transcript shows what they build, not
// each declaration, which the .klp beside it shows.
var quietVerbs = map[string]bool{"kernel": true, "cpus": true, "hz": true, "seed": true, "arch": true, "vmlinux": true, "module": true, "livepatch": true, "idle": true}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.klp"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts found (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".klp")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := runTranscript(t, f, string(src))
			compareGolden(t, strings.TrimSuffix(f, ".klp")+".txt", got)
		})
	}
}

// runTranscript runs a scenario statement by statement. Its first comment
// line is the title. After each statement the transcript shows what the
// shell printed ("> " stdout, "! " stderr, "~ " the session's notes), then
// the kernel log, then the events. Every `expect` must hold, and a
// WARN_ON_ONCE fails the test unless the scenario forced a transition or
// expects the warning.
func runTranscript(t *testing.T, file, src string) string {
	t.Helper()
	sc, err := scenario.Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	title, _, _ := strings.Cut(src, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	sess := &scenario.Session{}
	header := false
	var logAt, evAt int
	for _, st := range sc.Stmts {
		out, err := sess.Apply(st)
		if err != nil {
			t.Fatalf("%v", err)
		}
		m := sess.Sim()
		if !header && !quietVerbs[st.Verb] {
			writeHeader(&b, m)
			header = true
		}
		if quietVerbs[st.Verb] {
			continue
		}
		fmt.Fprintf(&b, "\n$ %s\n", strings.SplitN(st.String(), "\n", 2)[0])
		for _, o := range out {
			switch o.Kind {
			case "stdout":
				fmt.Fprintf(&b, "> %s\n", o.Text)
			case "fail":
				t.Error(o.Text)
				fmt.Fprintf(&b, "! %s\n", o.Text)
			case "stderr":
				fmt.Fprintf(&b, "! %s\n", o.Text)
			case "note":
				fmt.Fprintf(&b, "~ %s\n", o.Text)
			}
		}
		log, evs := m.Log(), m.Events()
		for _, l := range log[logAt:] {
			fmt.Fprintf(&b, "%-6s %s\n", l.Level, l.Dmesg())
		}
		for _, e := range evs[evAt:] {
			fmt.Fprintf(&b, "  . [%5d.%06d] %-8s %s\n", e.Time/1e9, (e.Time%1e9)/1e3, e.Kind, e.Text)
		}
		logAt, evAt = len(log), len(evs)
	}
	if m := sess.Sim(); m.Warnings() != 0 && !m.UsedForce() && !strings.Contains(src, "\nexpect warning") {
		t.Fatalf("the scenario raised %d warnings", m.Warnings())
	}
	return b.String()
}

func writeHeader(b *strings.Builder, m *sim.Sim) {
	cpus := m.CPUs()
	var off, nohz []string
	for _, c := range cpus {
		if !c.Online {
			off = append(off, fmt.Sprint(c.ID))
		}
		if c.NohzFull {
			nohz = append(nohz, fmt.Sprint(c.ID))
		}
	}
	fmt.Fprintf(b, "# profile %s, HZ=%d, %d CPUs", m.Profile(), m.HZ(), len(cpus))
	if len(nohz) > 0 {
		fmt.Fprintf(b, ", nohz_full=%s", strings.Join(nohz, ","))
	}
	if len(off) > 0 {
		fmt.Fprintf(b, ", offline=%s", strings.Join(off, ","))
	}
	b.WriteString("\n")
}

// compareGolden fails at the first line that differs from the file (or
// rewrites it with -update).
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateTranscripts {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./core/sim -run TestTranscripts -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./core/sim -run TestTranscripts -update after checking the change)", path, i+1, a, b)
		}
	}
}
