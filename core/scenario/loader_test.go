package scenario

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// loadAll runs a Loader to its end, units at a time, and counts the runs.
func loadAll(t *testing.T, file, src string, units int) (*Timeline, int, error) {
	t.Helper()
	l, err := NewLoader(file, src)
	if err != nil {
		return nil, 0, err
	}
	for n := 1; ; n++ {
		done, err := l.Run(units)
		if err != nil {
			return nil, n, err
		}
		if done {
			return l.Timeline(), n, nil
		}
		if n > 1e6 {
			t.Fatal("loader never finishes")
		}
	}
}

// TestLoaderSameAsNewTimeline: loading in slices of any size gives the
// state, source and output that loading at once gives, for every example,
// transcript and a scenario of long statements.
func TestLoaderSameAsNewTimeline(t *testing.T) {
	files, _ := filepath.Glob("../../web/examples/*.klp")
	more, _ := filepath.Glob("../sim/testdata/transcripts/*.klp")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d scenarios", len(files))
	}
	srcs := map[string]string{"long": "vmlinux f1 f2 f3\nspawn-random 2500 frames=3\nlivepatch p\n  object vmlinux\n    func f2 -> new_f2/0x10\nend\ninsmod p\ntick 600\nsleep 2.5\nsettle 100\nuntil signal within=30\n"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[filepath.Base(f)] = string(b)
	}
	for name, src := range srcs {
		want, wantErr := NewTimeline(name, src)
		if name == "long" && wantErr != nil {
			t.Fatal(wantErr)
		}
		for _, units := range []int{1, 2, 7, 1 << 20} {
			got, runs, err := loadAll(t, name, src, units)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s units=%d: error %v, NewTimeline's %v", name, units, err, wantErr)
			}
			if err != nil {
				if err.Error() != wantErr.Error() {
					t.Errorf("%s units=%d: error %q, want %q", name, units, err, wantErr)
				}
				continue
			}
			if g, w := got.Session().Source(), want.Session().Source(); g != w {
				t.Errorf("%s units=%d: source differs:\n%s\nwant\n%s", name, units, g, w)
			}
			if !reflect.DeepEqual(got.StartOutput(), want.StartOutput()) {
				t.Errorf("%s units=%d: output differs", name, units)
			}
			if g, w := got.Session().Sim().Fingerprint(), want.Session().Sim().Fingerprint(); g != w {
				t.Errorf("%s units=%d: state differs (fingerprint %x, want %x)", name, units, g, w)
			}
			if name == "long" && units == 1 && runs < 20 {
				t.Errorf("long scenario ran in %d slices of one unit; the long statements were not split", runs)
			}
		}
	}
}

// TestLoaderErrors: a scenario over budget runs nothing; one that fails
// half-way keeps nothing and names the line, as NewSession does.
func TestLoaderErrors(t *testing.T) {
	if _, err := NewLoader("x", strings.Repeat("spawn-random 100000\n", 3)); err == nil || !strings.Contains(err.Error(), "x:") {
		t.Errorf("over budget: %v, want an error naming the file and line", err)
	}
	l, err := NewLoader("x", "vmlinux f\nspawn-random 3000 frames=1\nexpect patched 1 f\n")
	if err != nil {
		t.Fatal(err)
	}
	var done bool
	for !done {
		done, err = l.Run(1)
	}
	_, want := NewTimeline("x", "vmlinux f\nspawn-random 3000 frames=1\nexpect patched 1 f\n")
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("failing scenario: %v, want %v", err, want)
	}
	if l.Timeline() != nil {
		t.Error("a failed load kept a timeline")
	}
	if d, err2 := l.Run(5); !d || err2 == nil {
		t.Error("a failed loader ran on")
	}
}

// TestExecRunSameAsExec: console input run in slices prints, fails,
// changes and checkpoints exactly as Exec does.
func TestExecRunSameAsExec(t *testing.T) {
	const start = "vmlinux f1 f2 f3\ntask 42 cat state=S stack=f1>f2\nlivepatch p\n  object vmlinux\n    func f2 -> new_f2/0x10\nend\n"
	inputs := []string{
		"spawn-random 2500 frames=2",
		"insmod p",
		"tick 600\nsleep 3",
		"settle 100",
		"until switch within=20",
		"until alarm within=3",
		"wake 42\nfrobnicate 1", // fails on its second line: the first stays
		"sleep x",
		"spawn-random 1500 frames=1\nexpect tasks 0",
		"",
	}
	for _, units := range []int{1, 3, 1 << 20} {
		want, err := NewTimeline("t", start)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := NewTimeline("t", start)
		runs := 0
		for _, in := range inputs {
			wOut, wErr := want.Exec(in, true)
			r, err := got.Start(in, true)
			if err != nil {
				if wErr == nil || err.Error() != wErr.Error() {
					t.Fatalf("units=%d %q: Start error %v, Exec's %v", units, in, err, wErr)
				}
				continue
			}
			var out []Out
			for done := false; !done; runs++ {
				done, out, err = r.Run(units)
			}
			if (err == nil) != (wErr == nil) || err != nil && err.Error() != wErr.Error() {
				t.Errorf("units=%d %q: error %v, Exec's %v", units, in, err, wErr)
			}
			if !reflect.DeepEqual(out, wOut) {
				t.Errorf("units=%d %q: output differs:\n%v\nwant\n%v", units, in, out, wOut)
			}
			if g, w := got.Session().Source(), want.Session().Source(); g != w {
				t.Errorf("units=%d %q: source\n%s\nwant\n%s", units, in, g, w)
			}
			if g, w := got.Session().Sim().Fingerprint(), want.Session().Sim().Fingerprint(); g != w {
				t.Errorf("units=%d %q: state differs", units, in)
			}
			if g, w := got.History(), want.History(); !reflect.DeepEqual(g, w) {
				t.Errorf("units=%d %q: history %+v, want %+v", units, in, g, w)
			}
		}
		if units == 1 && runs < 20 {
			t.Errorf("ran in %d slices of one unit", runs)
		}
	}
}
