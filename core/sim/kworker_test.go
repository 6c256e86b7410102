package sim

import (
	"slices"
	"strings"
	"testing"
)

// TestKworkerInput: only an existing kthread can be the kworker, and 0
// turns it off.
func TestKworkerInput(t *testing.T) {
	w := newWorld(t, "6.16", false)
	for _, c := range []struct {
		pid  int
		want string
	}{
		{999, "no task 999"},
		{102, "sh:102 is a user task; a kworker is a kthread"},
		{110, ""},
		{0, ""},
	} {
		err := w.s.Step(Kworker{PID: c.pid})
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Kworker{%d}: %v, want %q", c.pid, err, c.want)
		}
	}
	if w.s.worker != 0 {
		t.Errorf("Kworker{0} left worker %d", w.s.worker)
	}
}

// TestBoundKworkerCPU: a per-CPU worker (kworker/N:M) runs the
// transition work on its own CPU when that CPU is idle; busy, or an
// unbound worker, it takes the first idle CPU as before.
func TestBoundKworkerCPU(t *testing.T) {
	for _, tc := range []struct {
		comm  string
		busy1 bool // a kthread spins on CPU 1
		want  string
	}{
		{"kworker/1:1", false, "wakes on CPU 1"},
		{"kworker/1:1", true, "wakes on CPU 0"},
		{"kworker/0:2", false, "wakes on CPU 0"},
		{"kworker/u8:1", false, "wakes on CPU 0"},
		{"kworker/7:1", false, "wakes on CPU 0"}, // no such CPU
	} {
		t.Run(tc.comm, func(t *testing.T) {
			s := newSim(t, "6.16")
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			w := spawn(t, s, TaskSpec{PID: 60, Comm: tc.comm, Kind: Kthread, State: Interruptible, Stack: frames("kthread", "worker_thread", "schedule")})
			must(t, s.Step(Kworker{PID: w}))
			if tc.busy1 {
				spawn(t, s, TaskSpec{PID: 70, Comm: "spin", Kind: Kthread, State: Running, CPU: 1, Stack: frames("kthread", "msleep")})
			}
			sleeper(t, s, 42, "cat", UserTask, Interruptible, "cmdline_proc_show")
			must(t, s.Insmod("lp"))
			s.RunUntilSettled(uint64(s.HZ())) // the first retry
			ev := s.Events()
			i := slices.IndexFunc(ev, func(e Event) bool { return strings.Contains(e.Text, "wakes on CPU") })
			if i < 0 {
				t.Fatal("the kworker never woke")
			}
			if !strings.Contains(ev[i].Text, tc.comm+":60 "+tc.want) {
				t.Fatalf("%q, want %s", ev[i].Text, tc.want)
			}
		})
	}
}
