package scenario

import (
	"reflect"
	"strings"
	"testing"
)

const timelineScenario = `cpus 2
vmlinux do_syscall_64 ksys_read vfs_read seq_read cmdline_proc_show/0x30 schedule
livepatch lp
  object vmlinux
    func cmdline_proc_show -> lp_cmdline_proc_show/0x30
end
task 42 cat state=S stack=do_syscall_64>ksys_read>vfs_read>seq_read>cmdline_proc_show+0x1a>schedule
`

func TestTimeline(t *testing.T) {
	tl, err := NewTimeline("t", timelineScenario)
	if err != nil {
		t.Fatal(err)
	}
	if h := tl.History(); h.Pos != -1 || h.Count != 0 {
		t.Fatalf("fresh timeline: %+v", h)
	}
	if i := tl.Checkpoint("start"); i != 0 {
		t.Fatalf("first checkpoint %d", i)
	}
	step := func(line string) {
		t.Helper()
		if _, err := tl.Exec(line, true); err != nil {
			t.Fatal(err)
		}
	}
	step("insmod lp")
	step("tick 250")
	step("tick 250\ntick 1")
	want := History{Pos: 3, Count: 4, Labels: []string{"start", "insmod lp", "tick 250", "tick 250 …"}}
	if h := tl.History(); !reflect.DeepEqual(h, want) {
		t.Fatalf("history %+v, want %+v", h, want)
	}
	// a failed statement records nothing and stores no checkpoint
	if _, err := tl.Exec("call 9999 schedule", true); err == nil {
		t.Fatal("call of a missing task succeeded")
	}
	if h := tl.History(); h.Count != 4 {
		t.Fatalf("a failed statement stored a checkpoint: %+v", h)
	}
	// without checkpoint, nothing is stored though the source grows
	if _, err := tl.Exec("tick 1", false); err != nil || tl.History().Count != 4 {
		t.Fatalf("exec without checkpoint: %v %+v", err, tl.History())
	}
	at1 := tl.hist[1].Source()
	if err := tl.Seek(1); err != nil {
		t.Fatal(err)
	}
	if tl.Session().Source() != at1 || tl.History().Pos != 1 || tl.History().Count != 4 {
		t.Fatalf("seek 1: pos %+v, source\n%s", tl.History(), tl.Session().Source())
	}
	// running from an old checkpoint leaves the checkpoint pristine
	step("tick 5")
	if tl.hist[1].Source() != at1 {
		t.Fatal("a checkpoint changed when the session descending from it ran")
	}
	if h := tl.History(); h.Pos != 2 || h.Count != 3 || h.Labels[2] != "tick 5" {
		t.Fatalf("a checkpoint after seek did not discard the future: %+v", h)
	}
	if err := tl.Seek(0); err != nil {
		t.Fatal(err)
	}
	if p := tl.Fork(); p != 0 || tl.History().Count != 1 {
		t.Fatalf("fork: %d %+v", p, tl.History())
	}
	if err := tl.Seek(5); err == nil || !strings.Contains(err.Error(), "no checkpoint 5 (have 1)") {
		t.Fatalf("seek past the end: %v", err)
	}
}

func TestTimelineBounds(t *testing.T) {
	tl, err := NewTimeline("t", "cpus 1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < MaxCheckpoints+5; i++ {
		tl.Checkpoint(strings.Repeat("x", 300))
	}
	h := tl.History()
	if h.Count != MaxCheckpoints || h.Pos != MaxCheckpoints-1 || len(h.Labels[0]) != maxLabel {
		t.Fatalf("count %d pos %d label %d", h.Count, h.Pos, len(h.Labels[0]))
	}
}

func TestCompactSource(t *testing.T) {
	s, _, err := NewSession("t", "cpus 1\ntick\ntick 3\ntick 0x10\ntick 899999\ntick 2\ncat /proc/1/comm\ntick 4\n")
	if err != nil {
		t.Fatal(err)
	}
	// 0x10 is read as the tick reads it (16); 900,001 jiffies would pass
	// the 3,600 s a statement may take at HZ=250
	want := "cpus 1\ntick 20\ntick 899999\ntick 2\ncat /proc/1/comm\ntick 4\n"
	if got := s.CompactSource(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// the compact source rebuilds the same machine
	again, _, err := NewSession("t", s.CompactSource())
	if err != nil {
		t.Fatal(err)
	}
	if again.Sim().View().Jiffies != s.Sim().View().Jiffies {
		t.Fatal("compacting changed the time")
	}
}

func TestWithProfile(t *testing.T) {
	cases := []struct{ src, prof, want string }{
		{"cpus 2\n  kernel 6.4\ntick\n", "5.1", "cpus 2\nkernel 5.1\ntick\n"},
		{"cpus 2\n", "5.1", "kernel 5.1\ncpus 2\n"},
		{"kernels 2\n", "5.1", "kernel 5.1\nkernels 2\n"},
		{"kernel 6.4\n", "", "kernel 6.4\n"},
	}
	for _, c := range cases {
		if got := WithProfile(c.src, c.prof); got != c.want {
			t.Errorf("WithProfile(%q, %q) = %q, want %q", c.src, c.prof, got, c.want)
		}
	}
}

func TestNextPID(t *testing.T) {
	cases := []struct {
		src  string
		want int
	}{
		{"cpus 1", 100},
		{"task 42 cat", 100},
		{"task 42 cat\ntask 120 x\ntask 7 y", 121},
	}
	for _, c := range cases {
		s, _, err := NewSession("t", c.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.NextPID(); got != c.want {
			t.Errorf("%q: NextPID %d, want %d", c.src, got, c.want)
		}
	}
}

func TestExecAll(t *testing.T) {
	tl, err := NewTimeline("t", timelineScenario)
	if err != nil {
		t.Fatal(err)
	}
	tl.Checkpoint("start")
	start := tl.Session().Source()
	decl := "livepatch lp2\n  object vmlinux\n    func vfs_read -> lp2_vfs_read\nend"
	cases := []struct {
		name    string
		inputs  []string
		results int
		note    string
		hist    []string
		source  string // "" : unchanged since start
	}{
		// the second step fails: the first is taken back
		{"taken back", []string{decl, "insmod nosuch"}, 2, "taken back: livepatch lp2 … (a later step failed)", []string{"start"}, ""},
		// the first step fails: nothing ran, nothing to take back
		{"first fails", []string{"call 999 x", "tick 1"}, 1, "", []string{"start"}, ""},
		{"all applied", []string{decl, "insmod lp2"}, 2, "", []string{"start", "livepatch lp2 …; insmod lp2"}, "insmod lp2\n"},
	}
	for _, c := range cases {
		res, note, err := tl.ExecAll(c.inputs)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(res) != c.results || note != c.note || !reflect.DeepEqual(tl.History().Labels, c.hist) {
			t.Errorf("%s: %d results, note %q, history %q", c.name, len(res), note, tl.History().Labels)
		}
		if got := tl.Session().Source(); !strings.HasPrefix(got, start) || !strings.HasSuffix(got, c.source) || (c.source == "") != (got == start) {
			t.Errorf("%s: source\n%s", c.name, got)
		}
	}
}
